/** Picks the auth method named by AVP_AUTH_TYPE; one error lists every missing setting. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DEFAULTS, SETTING, type SettingName } from '../constants.js';
import type { Config } from '../config.js';
import { VaultfillError } from '../errors.js';
import { approleAuth } from './approle.js';
import { githubAuth } from './github.js';
import { kubernetesAuth } from './kubernetes.js';
import { tokenAuth } from './token.js';
import type { AuthMethod } from './types.js';
import { userpassAuth } from './userpass.js';

export const AUTH_TYPES = ['token', 'k8s', 'approle', 'userpass', 'github'] as const;

export function createAuth(config: Config, home: string | undefined): AuthMethod {
  const type = config.setting(SETTING.authType) ?? 'token';
  const missing: SettingName[] = [];
  const need = (name: SettingName): string => {
    const value = config.setting(name);
    if (value === undefined) missing.push(name);
    return value ?? '';
  };
  let method: AuthMethod;
  switch (type) {
    case 'token': {
      const token = config.setting(SETTING.vaultToken) ?? readCliToken(home);
      // A Vault Agent or Vault Proxy with use_auto_auth_token adds its own token to requests that have none.
      const agent = Boolean(config.setting(SETTING.vaultAgentAddr)) || config.setting(SETTING.vaultAddr)?.startsWith('unix://') === true;
      if (token === undefined && !agent) missing.push(SETTING.vaultToken);
      method = tokenAuth(token ?? '');
      break;
    }
    case 'k8s':
      method = kubernetesAuth(
        need(SETTING.k8sRole),
        config.setting(SETTING.k8sMountPath) ?? config.setting(SETTING.mountPath) ?? DEFAULTS.k8sMountPath,
        config.setting(SETTING.k8sTokenPath) ?? DEFAULTS.k8sTokenPath,
      );
      break;
    case 'approle':
      method = approleAuth(need(SETTING.roleId), need(SETTING.secretId), config.setting(SETTING.mountPath) ?? DEFAULTS.approleMountPath);
      break;
    case 'userpass':
      method = userpassAuth(need(SETTING.username), need(SETTING.password), config.setting(SETTING.mountPath) ?? 'auth/userpass');
      break;
    case 'github':
      method = githubAuth(need(SETTING.githubToken), config.setting(SETTING.mountPath) ?? 'auth/github');
      break;
    default:
      throw new VaultfillError('CONFIG', `${SETTING.authType} "${type}" is not supported; use one of ${AUTH_TYPES.join(', ')} (${config.provenance})`);
  }
  if (missing.length) {
    throw new VaultfillError('CONFIG', `missing setting ${missing.join(', ')} for ${SETTING.authType}=${type} (${config.provenance})`);
  }
  return method;
}

/** The vault CLI's token helper file, used when VAULT_TOKEN is not set. */
function readCliToken(home: string | undefined): string | undefined {
  if (!home) return undefined;
  try {
    return readFileSync(path.join(home, '.vault-token'), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * The Vault backend (`AVP_TYPE=vault`): KV v1 and v2 reads. Each mount's path and KV version is
 * detected once per run (sys/internal/ui/mounts), so a KV v2 path may be written with or
 * without `/data/`; when the token may not read that endpoint, AVP_KV_VERSION or the
 * kv-version annotation decide, as in argocd-vault-plugin. Only KV mounts are read, unless the
 * operator lists other paths in AVP_NON_KV_MOUNTS. Login happens on the first read.
 */
import { createAuth } from '../auth/index.js';
import { cacheDirectory, createTokenCache, type TokenCache } from '../auth/token-cache.js';
import type { AuthMethod } from '../auth/types.js';
import { DEFAULTS, FALSE_WORDS, SETTING, TRUE_WORDS } from '../constants.js';
import { VaultfillError } from '../errors.js';
import type { BackendOptions } from './index.js';
import { missing } from './index.js';
import type { Logger } from '../log.js';
import { metadataPath } from '../refresh/record.js';
import type { Backend, SecretData, SecretRequest } from './types.js';
import { createVaultHttp, vaultErrors, type VaultHttp, type VaultResponse } from './vault-http.js';

interface Mount {
  readonly path: string;
  /** The engine's type as Vault names it (`kv`, `database`, `token`, `system` …). */
  readonly type: string;
  readonly kvVersion: 1 | 2 | undefined;
}

// Never read when mount detection cannot say what is there: no manifest should read these (the
// sidecar's own token, Vault's configuration, identities, its cubbyhole).
const NEVER_WITHOUT_DETECTION = ['auth/', 'sys/', 'identity/', 'cubbyhole/'];

/** The Vault client and login session, as generate's backend and the refresher use them. */
function connect(options: BackendOptions): { http: VaultHttp; session: Session } {
  const { config, logger, env } = options;
  // As Vault's client: an agent's address, when set, wins.
  const address = config.setting(SETTING.vaultAgentAddr) || config.setting(SETTING.vaultAddr);
  if (!address) throw missing([SETTING.vaultAddr], config);
  const auth = createAuth(config, env['HOME']);
  const namespace = config.setting(SETTING.vaultNamespace);
  const timeoutText = config.setting(SETTING.vaultClientTimeout) ?? '30';
  if (!/^\d+(\.\d+)?$/.test(timeoutText) || Number(timeoutText) <= 0) throw new VaultfillError('CONFIG', `${SETTING.vaultClientTimeout} must be a number of seconds`);
  const skip = config.setting(SETTING.vaultSkipVerify);
  if (skip !== undefined && !TRUE_WORDS.has(skip) && !FALSE_WORDS.has(skip)) throw new VaultfillError('CONFIG', `${SETTING.vaultSkipVerify} must be true or false`);
  const retriesText = config.setting(SETTING.vaultMaxRetries) ?? String(DEFAULTS.maxRetries);
  if (!/^-?\d+$/.test(retriesText)) throw new VaultfillError('CONFIG', `${SETTING.vaultMaxRetries} must be a whole number (0 or less: no retries)`);
  const proxySetting = config.setting(SETTING.vaultProxyAddr) ? SETTING.vaultProxyAddr : config.setting(SETTING.vaultHttpProxy) ? SETTING.vaultHttpProxy : undefined;
  const http = createVaultHttp({
    address,
    proxy: proxySetting ? { setting: proxySetting, value: config.setting(proxySetting) as string } : undefined,
    env,
    namespace,
    caCert: config.setting(SETTING.vaultCaCert),
    caPath: config.setting(SETTING.vaultCaPath),
    clientCert: config.setting(SETTING.vaultClientCert),
    clientKey: config.setting(SETTING.vaultClientKey),
    skipVerify: skip !== undefined && TRUE_WORDS.has(skip),
    tlsServerName: config.setting(SETTING.vaultTlsServerName),
    timeoutMs: Number(timeoutText) * 1000,
    retries: Math.max(0, Number(retriesText)),
    redact: logger.redact,
    debug: (message) => logger.debug(message),
  });
  const cache =
    options.disableTokenCache || auth.cacheIdentity === undefined
      ? undefined
      : createTokenCache(cacheDirectory(env), `${address}|${namespace ?? ''}|${auth.cacheIdentity}`, logger);
  return { http, session: createSession(http, auth, cache, logger) };
}

export function createVaultBackend(options: BackendOptions): Backend {
  const { config, logger } = options;
  const { http, session } = connect(options);
  const mounts = createMountFinder(http, session);
  const nonKv = (config.setting(SETTING.nonKvMounts) ?? '').split(/[\s,]+/).filter(Boolean).map((m) => `${m.replace(/^\/+|\/+$/g, '')}/`);
  const allowedNonKv = (path: string): boolean => nonKv.some((prefix) => `${path}/`.startsWith(prefix));
  // The engine dedupes by path as written; `secret/app` and `secret/data/app` meet here.
  const reads = new Map<string, Promise<SecretData>>();
  const versions = new Map<string, number>();

  return {
    get requests() {
      return http.sent;
    },
    versions,
    async read(request) {
      const found = await mounts.find(request.path);
      const mount = found?.kvVersion !== undefined ? found : undefined;
      // Placeholders read secrets, not Vault's other endpoints: `auth/token/lookup-self` would
      // put the sidecar's own token into a manifest, and Vault's default policy allows it.
      if (!mount && !allowedNonKv(request.path)) {
        const hint = `vaultfill reads only KV mounts unless the sidecar's operator lists the path in ${SETTING.nonKvMounts}`;
        if (found) throw new VaultfillError('MOUNT_NOT_ALLOWED', `${request.path} is on a ${found.type} mount (${found.path}), not a KV secrets engine; ${hint}`);
        if (NEVER_WITHOUT_DETECTION.some((prefix) => request.path.startsWith(prefix))) {
          throw new VaultfillError('MOUNT_NOT_ALLOWED', `${request.path} is under ${NEVER_WITHOUT_DETECTION.join(', ')}, which are never read unless mount detection (sys/internal/ui/mounts) shows a KV mount; ${hint}`);
        }
      }
      // A non-KV mount the operator allowed answers like KV v1: the values under `data`.
      const kvVersion = found && !mount ? 1 : (mount?.kvVersion ?? request.kvVersion);
      const apiPath = kvVersion === 2 && mount ? dataPath(mount, request.path) : request.path;
      const query = kvVersion === 2 && request.version !== undefined ? `?version=${request.version}` : '';
      const key = `${apiPath}${query}`;
      let read = reads.get(key);
      if (!read) {
        read = session
          .call((token) => http.request('GET', `${encodePath(apiPath)}${query}`, { token }))
          .then((response) => {
            const data = interpret(response, request, apiPath, kvVersion, Boolean(mount));
            if (kvVersion === 2 && request.version === undefined) noteVersion(versions, response, apiPath, mount, logger);
            return data;
          });
        reads.set(key, read);
      }
      return read;
    },
  };
}

/** Reads KV v2 metadata for `vaultfill refresh`: nothing but `GET <mount>/metadata/<path>`. */
export interface MetadataReader {
  /** `current_version` of the secret at a KV v2 metadata path (`secret/metadata/app`). */
  currentVersion(metadataPath: string): Promise<number>;
  /** HTTP requests sent so far, logins and retries included. */
  readonly requests: number;
}

export function createMetadataReader(options: BackendOptions): MetadataReader {
  const { http, session } = connect(options);
  return {
    get requests() {
      return http.sent;
    },
    async currentVersion(path) {
      const response = await session.call((token) => http.request('GET', encodePath(path), { token }));
      const current = (response.body as { data?: { current_version?: unknown } | null } | undefined)?.data?.current_version;
      if (response.status === 200 && typeof current === 'number' && Number.isSafeInteger(current)) return current;
      if (response.status === 200) throw new VaultfillError('BACKEND_ERROR', `Vault's answer for ${path} has no current_version; is it a KV v2 metadata path?`);
      if (response.status === 404) throw new VaultfillError('SECRET_NOT_FOUND', `no secret at ${path}`);
      if (response.status === 403) throw new VaultfillError('PERMISSION_DENIED', `permission denied reading ${path}; the refresher's Vault policy must allow "read" on it`);
      const reason = vaultErrors(response.body);
      throw new VaultfillError('BACKEND_ERROR', `Vault answered HTTP ${response.status} reading ${path}${reason ? `: ${reason}` : ''}`);
    },
  };
}

interface Session {
  /** The current token (logging in, or from the cache, on first use). */
  token(): Promise<string>;
  /** Runs a read with the token; on 403 with a token from a login, logs in afresh once and retries. */
  call(fn: (token: string) => Promise<VaultResponse>): Promise<VaultResponse>;
}

function createSession(http: VaultHttp, auth: AuthMethod, cache: TokenCache | undefined, logger: Logger): Session {
  let current: Promise<{ token: string; reusable: boolean }> | undefined;
  const login = async (): Promise<{ token: string; reusable: boolean }> => {
    const result = await auth.login(http);
    if (cache) await cache.put(result);
    logger.debug(`logged in to Vault with ${auth.name}`);
    return { token: result.token, reusable: auth.cacheIdentity !== undefined };
  };
  const obtain = async (): Promise<{ token: string; reusable: boolean }> => {
    if (!cache) return login();
    return cache.locked(async () => {
      const cached = await cache.get();
      if (cached) {
        logger.debug('using the cached Vault token');
        return { token: cached, reusable: true };
      }
      return login();
    });
  };
  let renewed: Promise<{ token: string; reusable: boolean }> | undefined;
  return {
    async token() {
      current ??= obtain();
      return (await current).token;
    },
    async call(fn) {
      current ??= obtain();
      const first = await current;
      const response = await fn(first.token);
      if (response.status !== 403 || !first.reusable) return response;
      // The token was revoked or expired early: one fresh login for the whole run, then retry.
      renewed ??= (async () => {
        await cache?.drop();
        logger.debug('Vault answered 403 to a cached or earlier token; logging in again');
        return login();
      })();
      current = renewed;
      return fn((await renewed).token);
    },
  };
}

function createMountFinder(http: VaultHttp, session: Session): { find(path: string): Promise<Mount | undefined> } {
  const known: Mount[] = [];
  const pending = new Map<string, Promise<Mount | undefined>>();
  const lookup = async (path: string): Promise<Mount | undefined> => {
    // A 403 here only means the token may not look mounts up: fall back, no re-login.
    const response = await http.request('GET', `sys/internal/ui/mounts/${encodePath(path)}`, { token: await session.token() });
    const data = (response.body as { data?: { path?: unknown; type?: unknown; options?: { version?: unknown } | null } } | undefined)?.data;
    if (response.status !== 200 || typeof data?.path !== 'string' || typeof data.type !== 'string') return undefined;
    const kv = data.type === 'kv' || data.type === 'generic';
    // Auth mounts are named without their `auth/` prefix (`token/` for auth/token/…).
    const mountPath = path.startsWith('auth/') && !data.path.startsWith('auth/') ? `auth/${data.path}` : data.path;
    const mount: Mount = { path: mountPath, type: data.type, kvVersion: !kv ? undefined : data.options?.version === '2' ? 2 : 1 };
    known.push(mount);
    return mount;
  };
  return {
    async find(path) {
      const hit = known.find((m) => path.startsWith(m.path));
      if (hit) return hit;
      // Concurrent reads under one first segment share one lookup.
      const segment = path.split('/')[0] ?? path;
      let promise = pending.get(segment);
      if (!promise) {
        promise = lookup(path);
        pending.set(segment, promise);
      }
      const found = await promise;
      if (!found || path.startsWith(found.path)) return found;
      return known.find((m) => path.startsWith(m.path)) ?? lookup(path);
    },
  };
}

function dataPath(mount: Mount, path: string): string {
  const rest = path.slice(mount.path.length);
  return rest.startsWith('data/') ? path : `${mount.path}data/${rest}`;
}

function interpret(response: VaultResponse, request: SecretRequest, apiPath: string, kvVersion: 1 | 2, detected: boolean): SecretData {
  const body = response.body as { data?: { data?: unknown; metadata?: { deletion_time?: unknown; destroyed?: unknown } | null } | null } | undefined;
  const version = request.version === undefined ? '' : ` version ${request.version}`;
  const metadata = kvVersion === 2 ? body?.data?.metadata : undefined;
  if (metadata?.destroyed === true || (typeof metadata?.deletion_time === 'string' && metadata.deletion_time !== '')) {
    const how = metadata.destroyed === true ? 'destroyed' : 'deleted';
    throw new VaultfillError('VERSION_DELETED', `${request.path}${version || ' (latest version)'} is ${how} in Vault; restore it (vault kv undelete) or pin another version`);
  }
  if (response.status === 200) {
    const data = kvVersion === 2 ? body?.data?.data : body?.data;
    if (data && typeof data === 'object' && !Array.isArray(data)) return data as SecretData;
    throw new VaultfillError('SECRET_NOT_FOUND', `no data at ${apiPath}${version}`);
  }
  if (response.status === 404) {
    if (request.version !== undefined) throw new VaultfillError('VERSION_NOT_FOUND', `no secret at ${apiPath}${version}`);
    const hint = kvVersion === 2 && !detected && !apiPath.includes('/data/') ? '; KV v2 paths need /data/ (e.g. secret/data/app)' : '';
    throw new VaultfillError('SECRET_NOT_FOUND', `no secret at ${apiPath}${hint}`);
  }
  if (response.status === 403) {
    throw new VaultfillError('PERMISSION_DENIED', `permission denied reading ${apiPath}; the Vault token's policies must allow "read" on it`);
  }
  const reason = vaultErrors(response.body);
  throw new VaultfillError('BACKEND_ERROR', `Vault answered HTTP ${response.status} reading ${apiPath}${reason ? `: ${reason}` : ''}`);
}

/**
 * Keeps the version Vault answered for a latest-version KV v2 read (`data.metadata.version`),
 * when the data path maps to the mount's metadata path: a mount with a `data` segment of its
 * own (`kv/data/`) would make the mapping ambiguous, so such a path is not recorded.
 */
function noteVersion(versions: Map<string, number>, response: VaultResponse, apiPath: string, mount: Mount | undefined, logger: Logger): void {
  const version = (response.body as { data?: { metadata?: { version?: unknown } | null } | null } | undefined)?.data?.metadata?.version;
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1) return;
  const metadata = metadataPath(apiPath);
  const expected = mount ? `${mount.path}metadata/${apiPath.slice(mount.path.length + 'data/'.length)}` : metadata;
  if (metadata === undefined || metadata !== expected) {
    logger.debug(`${apiPath}: not recorded, its metadata path cannot be told from the data path (mount ${mount?.path ?? 'unknown'})`);
    return;
  }
  versions.set(apiPath, version);
}

function encodePath(path: string): string {
  return path.replace(/^\/+/, '').split('/').map(encodeURIComponent).join('/');
}

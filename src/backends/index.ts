/** Picks the backend named by AVP_TYPE. Adding a backend is one file plus one case here. */
import { SETTING } from '../constants.js';
import type { Config } from '../config.js';
import { VaultfillError } from '../errors.js';
import type { Logger } from '../log.js';
import { createFileBackend } from './file.js';
import type { Backend } from './types.js';

export interface BackendOptions {
  readonly config: Config;
  readonly logger: Logger;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly disableTokenCache: boolean;
}

export async function createBackend(options: BackendOptions): Promise<Backend> {
  const { config } = options;
  switch (config.type) {
    case 'file':
      if (!config.secretsFile) throw missing([SETTING.secretsFile], config);
      return createFileBackend(config.secretsFile);
    case 'vault': {
      const { createVaultBackend } = await import('./vault.js');
      return createVaultBackend(options);
    }
    default:
      throw missing([SETTING.type], config);
  }
}

export function missing(names: readonly string[], config: Config): VaultfillError {
  return new VaultfillError('CONFIG', `missing setting ${names.join(', ')} (${config.provenance})`);
}

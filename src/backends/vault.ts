import { VaultfillError } from '../errors.js';
import type { BackendOptions } from './index.js';
import type { Backend } from './types.js';

export function createVaultBackend(_options: BackendOptions): Backend {
  throw new VaultfillError('CONFIG', 'AVP_TYPE=vault is not available yet');
}

/**
 * References → secrets: each distinct (path, version, KV version) is read once, concurrently,
 * through a bounded pool. No backend is created when there is nothing to read.
 */
import pLimit from 'p-limit';
import { secretId, type Backend, type SecretData, type SecretRequest } from '../backends/types.js';
import { VaultfillError } from '../errors.js';

export type SecretResult = { readonly data: SecretData } | { readonly error: VaultfillError };

/**
 * Reads secrets as they are asked for, each distinct one once, through a bounded pool, so reads
 * overlap the parsing of later documents. `results()` waits for every read.
 */
export interface Resolver {
  request(request: SecretRequest): void;
  results(): Promise<Map<string, SecretResult>>;
}

export function createResolver(backend: () => Promise<Backend>, concurrency: number): Resolver {
  const limit = pLimit(concurrency);
  const results = new Map<string, SecretResult>();
  const reads = new Map<string, Promise<void>>();
  return {
    request(request) {
      const id = secretId(request);
      if (reads.has(id)) return;
      reads.set(
        id,
        limit(async () => {
          try {
            results.set(id, { data: await (await backend()).read(request) });
          } catch (error) {
            results.set(id, { error: asVaultfillError(error, request) });
          }
        }),
      );
    },
    async results() {
      await Promise.all(reads.values());
      return results;
    },
  };
}

export async function resolveSecrets(
  requests: Iterable<SecretRequest>,
  backend: () => Promise<Backend>,
  concurrency: number,
): Promise<Map<string, SecretResult>> {
  const resolver = createResolver(backend, concurrency);
  for (const request of requests) resolver.request(request);
  return resolver.results();
}

function asVaultfillError(error: unknown, request: SecretRequest): VaultfillError {
  if (error instanceof VaultfillError) return error;
  const reason = error instanceof Error ? error.message : 'unknown failure';
  return new VaultfillError('BACKEND_ERROR', `reading ${request.path} failed: ${reason}`);
}

/**
 * References → secrets: each distinct (path, version, KV version) is read once, concurrently,
 * through a bounded pool. No backend is created when there is nothing to read.
 */
import pLimit from 'p-limit';
import { secretId, type Backend, type SecretData, type SecretRequest } from '../backends/types.js';
import { VaultfillError } from '../errors.js';

export type SecretResult = { readonly data: SecretData } | { readonly error: VaultfillError };

export async function resolveSecrets(
  requests: Iterable<SecretRequest>,
  backend: () => Promise<Backend>,
  concurrency: number,
): Promise<Map<string, SecretResult>> {
  const distinct = new Map<string, SecretRequest>();
  for (const request of requests) distinct.set(secretId(request), request);
  const results = new Map<string, SecretResult>();
  if (!distinct.size) return results;
  const limit = pLimit(concurrency);
  await Promise.all(
    [...distinct].map(([id, request]) =>
      limit(async () => {
        try {
          results.set(id, { data: await (await backend()).read(request) });
        } catch (error) {
          results.set(id, { error: asVaultfillError(error, request) });
        }
      }),
    ),
  );
  return results;
}

function asVaultfillError(error: unknown, request: SecretRequest): VaultfillError {
  if (error instanceof VaultfillError) return error;
  const reason = error instanceof Error ? error.message : 'unknown failure';
  return new VaultfillError('BACKEND_ERROR', `reading ${request.path} failed: ${reason}`);
}

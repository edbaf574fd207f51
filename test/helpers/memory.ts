/** An in-memory secret store for engine unit tests (not Vault: it only counts reads). */
import { PassThrough } from 'node:stream';
import { VaultfillError } from '../../src/errors.js';
import type { Backend, SecretData, SecretRequest } from '../../src/backends/types.js';
import { generate, type GenerateResult } from '../../src/generate.js';
import { createLogger } from '../../src/log.js';

export interface MemoryBackend extends Backend {
  readonly reads: SecretRequest[];
}

/** `secrets` maps a path to its data, or to a list of versions (1-based, last is latest). */
export function memoryBackend(secrets: Record<string, SecretData | SecretData[]>): MemoryBackend {
  const reads: SecretRequest[] = [];
  return {
    reads,
    get requests() {
      return reads.length;
    },
    async read(request) {
      reads.push(request);
      await new Promise((r) => setTimeout(r, 1));
      const entry = secrets[request.path];
      if (entry === undefined) throw new VaultfillError('SECRET_NOT_FOUND', `no secret at ${request.path}`);
      const versions = Array.isArray(entry) ? entry : [entry];
      const data = request.version === undefined || request.kvVersion === 1 ? versions[versions.length - 1] : versions[request.version - 1];
      if (!data) throw new VaultfillError('VERSION_NOT_FOUND', `${request.path} has no version ${request.version}`);
      return data;
    },
  };
}

export interface Run extends Omit<GenerateResult, 'output'> {
  readonly output: string;
  readonly stderr: string;
  readonly messages: string[];
}

/** Runs the pipeline on one stdin-like source. */
export async function run(
  text: string | Array<{ name: string; text: string }>,
  backend: Backend,
  options: { kvVersion?: 1 | 2; pathValidation?: RegExp; allowEmpty?: boolean; verbose?: boolean; fullParser?: boolean } = {},
): Promise<Run> {
  const stderr = new PassThrough();
  let written = '';
  stderr.on('data', (d: Buffer) => (written += d.toString()));
  const logger = createLogger(stderr, options.verbose ?? false);
  const sources = typeof text === 'string' ? [{ name: 'stdin', text }] : text;
  const result = await generate(sources, {
    config: { kvVersion: options.kvVersion ?? 2, pathValidation: options.pathValidation, concurrency: 4, fullParser: options.fullParser ?? false },
    backend: async () => backend,
    allowEmpty: options.allowEmpty ?? false,
    logger,
  });
  return { ...result, output: result.output.join(''), stderr: written, messages: result.errors.map((e) => e.message) };
}

/**
 * The local-file backend (`AVP_TYPE=file`): secrets from a YAML file, for offline renders,
 * examples and tests.
 *
 *   secrets:
 *     - path: secret/data/app
 *       data: {user: alice, replicas: 3}
 *     - path: secret/data/versioned
 *       versions: [{user: old}, {user: new}]   # 1-based; the last is the latest
 */
import { readFileSync } from 'node:fs';
import { VaultfillError } from '../errors.js';
import { metadataPath } from '../refresh/record.js';
import { parseYaml } from '../yaml.js';
import type { Backend, SecretData, SecretRequest } from './types.js';

type Entry = { readonly versions: readonly SecretData[] };

export function createFileBackend(file: string): Backend {
  let loaded: Promise<Map<string, Entry>> | undefined;
  let requests = 0;
  // As Vault's KV v2 would answer: a secret's latest version is the number of its versions.
  const versions = new Map<string, number>();
  return {
    get requests() {
      return requests;
    },
    versions,
    async read(request: SecretRequest): Promise<SecretData> {
      requests++;
      loaded ??= load(file);
      const entry = (await loaded).get(normalize(request.path));
      if (!entry) throw new VaultfillError('SECRET_NOT_FOUND', `no secret at ${request.path} in ${file}`);
      if (request.version === undefined) {
        const path = normalize(request.path);
        if (request.kvVersion === 2 && metadataPath(path) !== undefined) versions.set(path, entry.versions.length);
        return entry.versions[entry.versions.length - 1] ?? {};
      }
      const data = entry.versions[request.version - 1];
      if (!data) {
        throw new VaultfillError('VERSION_NOT_FOUND', `${request.path} has no version ${request.version} (it has ${entry.versions.length})`);
      }
      return data;
    },
  };
}

async function load(file: string): Promise<Map<string, Entry>> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new VaultfillError('CONFIG', `cannot read secrets file ${file} (${reason}); set AVP_SECRETS_FILE or --secrets-file`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (error) {
    // The parser's message quotes the offending line, which may hold a secret: keep only its position.
    const where = error instanceof Error && 'linePos' in error ? positionOf(error) : '';
    throw new VaultfillError('CONFIG', `secrets file ${file}${where} is not valid YAML`);
  }
  const list = isRecord(doc) ? doc['secrets'] : undefined;
  if (!Array.isArray(list)) throw new VaultfillError('CONFIG', `secrets file ${file} must have a top-level "secrets:" list`);
  const entries = new Map<string, Entry>();
  list.forEach((item: unknown, i) => {
    const bad = (what: string): never => {
      throw new VaultfillError('CONFIG', `secrets file ${file}, secrets[${i}]: ${what}`);
    };
    if (!isRecord(item) || typeof item['path'] !== 'string' || !item['path']) return bad('needs a "path" string');
    const { data, versions } = item;
    if (data !== undefined && versions !== undefined) bad('has both "data" and "versions"; use one');
    if (versions !== undefined) {
      if (!Array.isArray(versions) || !versions.length || !versions.every(isRecord)) bad('"versions" must be a non-empty list of maps');
      entries.set(normalize(item['path']), { versions: versions as SecretData[] });
    } else {
      if (!isRecord(data)) bad('"data" must be a map of keys to values');
      entries.set(normalize(item['path']), { versions: [data as SecretData] });
    }
  });
  return entries;
}

function positionOf(error: Error & { linePos?: unknown }): string {
  const pos = Array.isArray(error.linePos) ? (error.linePos[0] as { line?: number; col?: number } | undefined) : undefined;
  return pos?.line ? `:${pos.line}:${pos.col ?? 1}` : '';
}

function normalize(path: string): string {
  return path.replace(/^\/+|\/+$/g, '');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * Reading vaultfill's output back, for the property tests in test/output/: runs `generate()` on
 * a stream both ways (line scanner allowed, and `fullParser: true`), and reads streams with the
 * three readers a written value must satisfy:
 *
 * - `k8s`: Kubernetes' own reader (test/oracle: sigs.k8s.io/yaml over go-yaml v2, as Argo CD
 *   reads a plugin's output), empty and null documents dropped;
 * - `yaml12`: the `yaml` package with its default YAML 1.2 core schema;
 * - `yaml11`: the `yaml` package with `{ version: '1.1' }` (the YAML 1.1 schema: more booleans,
 *   sexagesimals, timestamps, merge keys).
 *
 * A reading is the documents as plain data, or the error that fails the stream.
 */
import { isDeepStrictEqual } from 'node:util';
import { parseAllDocuments } from 'yaml';
import type { SecretData } from '../../src/backends/types.js';
import type { VaultfillError } from '../../src/errors.js';
import { generate } from '../../src/generate.js';
import { createLogger } from '../../src/log.js';
import { memoryBackend } from './memory.js';
import { startK8sYamlReader, type K8sYamlReader } from './k8s-yaml.js';
import { PassThrough } from 'node:stream';

export type ReaderName = 'k8s' | 'yaml12' | 'yaml11';
export const READERS: readonly ReaderName[] = ['k8s', 'yaml12', 'yaml11'];

export type Reading = { readonly documents: unknown[] } | { readonly error: string };
export type Readings = Record<ReaderName, Reading>;

/** The `yaml` package's reading of a stream: every document (null ones too), or its first error. */
export function readYaml(stream: string, version: '1.1' | '1.2'): Reading {
  const docs = parseAllDocuments(stream, { version, uniqueKeys: false, logLevel: 'silent', prettyErrors: false });
  const list = Array.isArray(docs) ? docs : [];
  for (const doc of list) {
    const error = doc.errors[0];
    if (error) return { error: `${error.code}: ${error.message.split('\n')[0]}` };
  }
  try {
    return { documents: list.map((doc) => doc.toJS({ maxAliasCount: -1 }) as unknown) };
  } catch (error) {
    return { error: `toJS: ${(error as Error).message}` };
  }
}

/** One oracle process per test file: start it in `test.before`, close it in `test.after.always`. */
export class ThreeReaders {
  private constructor(private readonly k8s: K8sYamlReader) {}

  static async start(): Promise<ThreeReaders> {
    return new ThreeReaders(await startK8sYamlReader());
  }

  async read(stream: string): Promise<Readings> {
    const k8s = await this.k8s.read(stream);
    return { k8s, yaml12: readYaml(stream, '1.2'), yaml11: readYaml(stream, '1.1') };
  }

  /** Kubernetes' reading alone (a large stream: the `yaml` readings cost ~0.4 µs a byte each). */
  readK8s(stream: string): Promise<Reading> {
    return this.k8s.read(stream);
  }

  close(): Promise<void> {
    return this.k8s.close();
  }
}

export type ReaderPath = 'scanner' | 'full parser';

export interface Generated {
  /** The stream written; empty when there are errors. */
  readonly output: string;
  readonly errors: readonly VaultfillError[];
  /** Candidate documents (the line scanner or the parser read them). */
  readonly parsed: number;
}

/** Runs generate() on one stdin-like source against an in-memory backend. */
export async function generateWith(text: string, secrets: Record<string, SecretData | SecretData[]>, fullParser: boolean): Promise<Generated> {
  const backend = memoryBackend(secrets);
  const result = await generate([{ name: 'stdin', text }], {
    config: { kvVersion: 2, pathValidation: undefined, concurrency: 4, fullParser },
    backend: async () => backend,
    allowEmpty: true,
    logger: createLogger(new PassThrough(), false),
  });
  return { output: result.output.join(''), errors: result.errors, parsed: result.stats.parsed };
}

/** generate() with the line scanner allowed, and with the full parser forced. */
export async function generateBothWays(text: string, secrets: Record<string, SecretData | SecretData[]>): Promise<Record<ReaderPath, Generated>> {
  const [scanner, full] = await Promise.all([generateWith(text, secrets, false), generateWith(text, secrets, true)]);
  return { scanner, 'full parser': full };
}

/** Errors as `CODE (exit N): message`, sorted: what the two paths must agree on. */
export function errorSummary(errors: readonly VaultfillError[]): string[] {
  return errors.map((e) => `${e.code} (exit ${e.exitCode}) ${e.location?.yamlPath ?? ''}: ${e.message}`).sort();
}

export type Key = string | number;

export function getAt(root: unknown, path: readonly Key[]): unknown {
  let node = root;
  for (const key of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<Key, unknown>)[key];
  }
  return node;
}

/** A copy of `root` with `value` at `path` (which must exist). */
export function setAt(root: unknown, path: readonly Key[], value: unknown): unknown {
  if (!path.length) return value;
  const [key, ...rest] = path as [Key, ...Key[]];
  if (Array.isArray(root)) return root.map((item, i) => (i === key ? setAt(item, rest, value) : item));
  if (root === null || typeof root !== 'object') throw new Error(`no ${String(key)} in ${JSON.stringify(root)}`);
  return { ...(root as Record<string, unknown>), [key]: setAt((root as Record<Key, unknown>)[key], rest, value) };
}

export function deepEqual(a: unknown, b: unknown): boolean {
  return isDeepStrictEqual(a, b);
}

/** JSON for messages: strings escaped, Dates and -0 shown, undefined kept visible. */
export function show(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (Object.is(value, -0)) return '-0';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  // JSON would write NaN, the infinities and -0 as null and 0: they are shown as «NaN», «-0».
  const text = JSON.stringify(value, function (this: unknown, k: string, v: unknown) {
    const raw = (this as Record<string, unknown>)[k];
    if (typeof raw === 'number' && (!Number.isFinite(raw) || Object.is(raw, -0))) return `«${Object.is(raw, -0) ? '-0' : String(raw)}»`;
    return raw instanceof Date ? `Date(${raw.toISOString()})` : v instanceof Uint8Array ? `bytes(${Buffer.from(v).toString('hex')})` : v;
  });
  return text.length > 600 ? `${text.slice(0, 600)}… (${text.length} chars)` : text;
}

/** What Kubernetes stores for a typed value: JSON's reading of it (-0 is 0). */
export function asJson(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value)) as unknown;
}

/** Whether a value holds something Kubernetes cannot store: a lone surrogate in any string (keys too), a non-finite number. */
export function unrepresentable(value: unknown): 'surrogate' | 'non-finite' | undefined {
  if (typeof value === 'string') return /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(value) ? 'surrogate' : undefined;
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : 'non-finite';
  if (Array.isArray(value)) {
    for (const item of value) {
      const why = unrepresentable(item);
      if (why) return why;
    }
    return undefined;
  }
  if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const why = unrepresentable(k) ?? unrepresentable(v);
      if (why) return why;
    }
  }
  return undefined;
}

/** How a resolved value goes into the text it stands in: src/placeholder/substitute.ts's rule, restated. */
export function stringified(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  return JSON.stringify(value);
}

/** Where a placeholder stands: a typed position, a ConfigMap (every value a string), or base64 in a Secret's data. */
/** How a value is written: typed YAML, always as text (ConfigMap data, stringData, annotations and labels), or base64 (Secret data). */
export type ValueContext = 'typed' | 'strings' | 'base64';

export type Expectation = { readonly value: unknown } | { readonly error: 'VALUE_UNREPRESENTABLE'; readonly why: string };

/**
 * What a reader must read where the input read `read` (a string holding `placeholder`) once
 * `placeholder` is `value`: the value itself (typed) when the placeholder is the whole scalar in a
 * typed position, else the text with the value stringified in (base64 decoded and re-encoded).
 * A value Kubernetes cannot store is an error: a lone surrogate anywhere in it; a non-finite
 * number written as a number, or nested in a map or list (JSON.stringify would write `null`).
 */
export function expectation(read: string, placeholder: string, value: unknown, context: ValueContext): Expectation {
  const why = unrepresentable(value);
  if (why === 'surrogate') return { error: 'VALUE_UNREPRESENTABLE', why: 'a lone surrogate' };
  if (why === 'non-finite' && typeof value === 'object') return { error: 'VALUE_UNREPRESENTABLE', why: 'a non-finite number in a map or list' };
  const fill = (text: string): string => text.split(placeholder).join(stringified(value));
  if (context === 'base64') return { value: Buffer.from(fill(Buffer.from(read, 'base64').toString('utf8')), 'utf8').toString('base64') };
  if (context === 'typed' && read === placeholder && typeof value !== 'string') {
    if (why === 'non-finite') return { error: 'VALUE_UNREPRESENTABLE', why: 'a non-finite number' };
    return { value: asJson(value) };
  }
  return { value: fill(read) };
}

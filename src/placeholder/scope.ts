/**
 * The rules a resource's annotations set for its placeholders (argocd-vault-plugin's
 * annotations): ignore, generic placeholders and their path, versions, remove-missing.
 */
import type { Pair, YAMLMap } from 'yaml';
import { ANNOTATION, FALSE_WORDS, TRUE_WORDS } from '../constants.js';
import { isPlainSafe } from '../manifest/edit.js';
import { joinPath } from '../manifest/yaml-path.js';
import type { Mode } from './grammar.js';
import { parseYaml, yaml } from '../yaml.js';

export interface ScopeOptions {
  readonly kvVersion: 1 | 2;
}

export interface Resource {
  readonly kind: string | undefined;
  /** `Kind/name`, for messages. */
  readonly label: string | undefined;
  readonly removeMissing: boolean;
  /** ConfigMap: every resolved value becomes a string. */
  readonly stringify: boolean;
}

export interface Scope {
  readonly resource: Resource;
  /** The resource's own YAML path in its document (`items[2]` in a List; empty otherwise). */
  readonly base: string;
  readonly mode: Mode;
  readonly annotationPath: string | undefined;
  readonly secretVersion: string | undefined;
  readonly kvVersion: 1 | 2;
  readonly isSecret: boolean;
}

export function pathOnlyScope(options: ScopeOptions): Scope {
  const resource = { kind: undefined, label: undefined, removeMissing: false, stringify: false };
  return { resource, base: '', mode: 'path-only', annotationPath: undefined, secretVersion: undefined, kvVersion: options.kvVersion, isSecret: false };
}

export interface ResourceView {
  readonly kind: string | undefined;
  readonly label: string | undefined;
  annotation(name: string): string | undefined;
}

/** The rules a resource's annotations set, or undefined when the resource is ignored. */
export function scopeOf(view: ResourceView, options: ScopeOptions, report: (message: string) => void, base = ''): Scope | undefined {
  const { kind, label, annotation } = view;
  if (isTrue(annotation(ANNOTATION.ignore))) return undefined;
  const removeMissing = isTrue(annotation(ANNOTATION.removeMissing));
  if (removeMissing && kind !== 'Secret' && kind !== 'ConfigMap') {
    report(`${ANNOTATION.removeMissing} can only be used on Secret or ConfigMap resources`);
  }
  let kvVersion = options.kvVersion;
  const kv = annotation(ANNOTATION.kvVersion);
  if (kv !== undefined) {
    if (kv === '1' || kv === '2') kvVersion = Number(kv) as 1 | 2;
    else report(`${ANNOTATION.kvVersion} must be "1" or "2"`);
  }
  const annotationPath = annotation(ANNOTATION.path);
  if (annotationPath !== undefined && !annotationPath.trim()) report(`${ANNOTATION.path} is empty`);
  return {
    resource: { kind, label, removeMissing, stringify: kind === 'ConfigMap' },
    base,
    mode: annotationPath === undefined ? 'path-only' : 'generic',
    annotationPath: annotationPath?.trim(),
    secretVersion: annotation(ANNOTATION.secretVersion),
    kvVersion,
    isSecret: kind === 'Secret',
  };
}

/**
 * Kind, name and avp.kubernetes.io annotations of a parsed resource, as Kubernetes reads them:
 * of duplicate keys the last wins, and an annotation value must be a string (the API server
 * refuses anything else), so a value that YAML 1.2 or YAML 1.1 (Kubernetes' reader) reads as
 * another type (`ignore: true`, `kv-version: 2`, `path: null`) is reported through `report`
 * and taken as absent. The line scanner leaves such values to this reading (line-scan.ts).
 */
export function viewOf(map: YAMLMap, report: (message: string) => void): ResourceView {
  const kind = scalarText(lastValue(map, 'kind'));
  const metadata = lastValue(map, 'metadata');
  const { isMap } = yaml();
  const name = isMap(metadata) ? scalarText(lastValue(metadata, 'name')) : undefined;
  const annotations = new Map<string, string>();
  const node = isMap(metadata) ? lastValue(metadata, 'annotations') : undefined;
  if (isMap(node)) {
    for (const pair of node.items) {
      const key = scalarText(pair.key);
      if (key === undefined || !key.startsWith(ANNOTATION_PREFIX)) continue;
      const value = annotationString(pair.value);
      annotations.delete(key);
      if (value === undefined) report(`${key} must be a string; quote its value (e.g. ${key}: "…")`);
      else annotations.set(key, value);
    }
  }
  return { kind, label: kind || name ? `${kind ?? '?'}/${name ?? '?'}` : undefined, annotation: (n) => annotations.get(n) };
}

const ANNOTATION_PREFIX = 'avp.kubernetes.io/';

/** The value of the last pair of `map` whose key is `key`. */
function lastValue(map: YAMLMap, key: string): unknown {
  for (let i = map.items.length - 1; i >= 0; i--) {
    const pair = map.items[i] as Pair;
    if (scalarText(pair.key) === key) return pair.value;
  }
  return undefined;
}

function scalarText(node: unknown): string | undefined {
  return yaml().isScalar(node) ? stringOf(node.value) : undefined;
}

/** A scalar that every reader takes as a string, or undefined. */
function annotationString(node: unknown): string | undefined {
  const { isScalar } = yaml();
  if (!isScalar(node) || typeof node.value !== 'string' || (node.tag !== undefined && node.tag !== 'tag:yaml.org,2002:str')) return undefined;
  if (node.type !== 'PLAIN' || isPlainSafe(node.value, false)) return node.value;
  // A plain scalar YAML 1.2 read as a string may still be a boolean, number or date to YAML 1.1.
  try {
    return typeof parseYaml(node.value, { version: '1.1' }) === 'string' ? node.value : undefined;
  } catch {
    return undefined;
  }
}

/** Whether `path` is `prefix` or lies under it. */
function under(path: string, prefix: string): boolean {
  return path.startsWith(prefix) && (path.length === prefix.length || path[prefix.length] === '.' || path[prefix.length] === '[');
}

/** A value under a Secret's `data`: base64 of its text, as AVP reads it (`stringData` is plain text). */
export function inSecretData(scope: Scope, path: string): boolean {
  return scope.isSecret && under(path, joinPath(scope.base, 'data'));
}

/**
 * Fields Kubernetes holds only as strings, where a typed value could only fail the sync: a
 * Secret's `stringData`, and every resource's annotations and labels (a ConfigMap's values are
 * strings through Resource.stringify).
 */
export function stringsOnly(scope: Scope, path: string): boolean {
  const metadata = joinPath(scope.base, 'metadata');
  return (
    scope.resource.stringify ||
    (scope.isSecret && under(path, joinPath(scope.base, 'stringData'))) ||
    under(path, joinPath(metadata, 'annotations')) ||
    under(path, joinPath(metadata, 'labels'))
  );
}

/** Go's strconv.ParseBool, as AVP reads boolean annotations; anything else is false. */
export function isTrue(value: string | undefined): boolean {
  return value !== undefined && TRUE_WORDS.has(value) && !FALSE_WORDS.has(value);
}

function stringOf(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

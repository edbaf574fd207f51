/**
 * The rules a resource's annotations set for its placeholders (argocd-vault-plugin's
 * annotations): ignore, generic placeholders and their path, versions, remove-missing.
 */
import type { YAMLMap } from 'yaml';
import { ANNOTATION, FALSE_WORDS, TRUE_WORDS } from '../constants.js';
import type { Mode } from './grammar.js';
import { yaml } from '../yaml.js';

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
  readonly mode: Mode;
  readonly annotationPath: string | undefined;
  readonly secretVersion: string | undefined;
  readonly kvVersion: 1 | 2;
  readonly isSecret: boolean;
}

export function pathOnlyScope(options: ScopeOptions): Scope {
  const resource = { kind: undefined, label: undefined, removeMissing: false, stringify: false };
  return { resource, mode: 'path-only', annotationPath: undefined, secretVersion: undefined, kvVersion: options.kvVersion, isSecret: false };
}

export interface ResourceView {
  readonly kind: string | undefined;
  readonly label: string | undefined;
  annotation(name: string): string | undefined;
}

/** The rules a resource's annotations set, or undefined when the resource is ignored. */
export function scopeOf(view: ResourceView, options: ScopeOptions, report: (message: string) => void): Scope | undefined {
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
    mode: annotationPath === undefined ? 'path-only' : 'generic',
    annotationPath: annotationPath?.trim(),
    secretVersion: annotation(ANNOTATION.secretVersion),
    kvVersion,
    isSecret: kind === 'Secret',
  };
}

export function annotationsOf(map: YAMLMap): (name: string) => string | undefined {
  const metadata = map.get('metadata');
  const { isMap } = yaml();
  const annotations = isMap(metadata) ? metadata.get('annotations') : undefined;
  return (name) => (isMap(annotations) ? stringOf(annotations.get(name)) : undefined);
}

/** Go's strconv.ParseBool, as AVP reads boolean annotations; anything else is false. */
export function isTrue(value: string | undefined): boolean {
  return value !== undefined && TRUE_WORDS.has(value) && !FALSE_WORDS.has(value);
}

export function labelOf(map: YAMLMap): string | undefined {
  const kind = stringOf(map.get('kind'));
  const metadata = map.get('metadata');
  const name = yaml().isMap(metadata) ? stringOf(metadata.get('name')) : undefined;
  if (!kind && !name) return undefined;
  return `${kind ?? '?'}/${name ?? '?'}`;
}

export function stringOf(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

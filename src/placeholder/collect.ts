/**
 * Documents → references: finds every placeholder in the parsed documents, with the resource
 * rules (annotations, Secret base64, ConfigMap strings) and a location for each. Pure.
 */
import { isMap, isScalar, isSeq, type Node, type Pair, type Scalar, type YAMLMap, type YAMLSeq } from 'yaml';
import type { SecretRequest } from '../backends/types.js';
import { ANNOTATION, FALSE_WORDS, TRUE_WORDS } from '../constants.js';
import { VaultfillError, type Location } from '../errors.js';
import type { ParsedChunk } from '../manifest/documents.js';
import type { ScalarContext } from '../manifest/edit.js';
import { findPlaceholders, mayContain, type Mode, type Placeholder } from './grammar.js';

export interface Reference {
  readonly placeholder: Placeholder;
  readonly request: SecretRequest;
  readonly location: Location;
}

export interface Resource {
  readonly kind: string | undefined;
  /** `Kind/name`, for messages. */
  readonly label: string | undefined;
  readonly removeMissing: boolean;
  /** ConfigMap: every resolved value becomes a string. */
  readonly stringify: boolean;
}

/** One string scalar holding placeholders. */
export interface Slot {
  readonly node: Scalar;
  readonly parent: YAMLMap | YAMLSeq;
  readonly pair: Pair | undefined;
  readonly context: ScalarContext;
  readonly resource: Resource;
  /** The string the placeholders are in (decoded, for a base64 Secret value). */
  readonly text: string;
  readonly base64: boolean;
  readonly references: readonly Reference[];
  readonly location: Location;
}

export interface CollectOptions {
  readonly kvVersion: 1 | 2;
  readonly pathValidation: RegExp | undefined;
}

export interface Collected {
  readonly slots: Slot[];
  readonly errors: VaultfillError[];
}

interface Scope {
  readonly resource: Resource;
  readonly mode: Mode;
  readonly annotationPath: string | undefined;
  readonly secretVersion: string | undefined;
  readonly kvVersion: 1 | 2;
  readonly isSecret: boolean;
}

export function collect(parsed: ParsedChunk, options: CollectOptions): Collected {
  const out: Collected = { slots: [], errors: [] };
  const { chunk, lines } = parsed;
  const locate = (offset: number, extra: Partial<Location> = {}): Location => {
    const pos = lines.linePos(offset);
    return { source: chunk.source.name, line: chunk.line + pos.line - 1, column: pos.col, document: chunk.index, ...extra };
  };

  const visitResource = (node: Node | null, path: string): void => {
    if (!isMap(node)) {
      if (node) walk(node, path, undefined, undefined, pathOnlyScope(options));
      return;
    }
    const scope = scopeOf(node, options, (message) => out.errors.push(new VaultfillError('ANNOTATION_INVALID', message, { location: locate(node.range?.[0] ?? 0, { resource: labelOf(node) }) })));
    if (!scope) return;
    const items = node.get('items');
    const isList = typeof node.get('kind') === 'string' && String(node.get('kind')).endsWith('List') && isSeq(items);
    for (const pair of node.items) {
      const key = keyText(pair);
      if (isList && key === 'items' && isSeq(pair.value)) {
        pair.value.items.forEach((item, i) => visitResource(item as Node, `${path}items[${i}]`));
      } else {
        walk(pair.value as Node | null, join(path, key), node, pair, scope);
      }
    }
  };

  const walk = (node: Node | null, path: string, parent: YAMLMap | YAMLSeq | undefined, pair: Pair | undefined, scope: Scope): void => {
    if (isMap(node)) {
      for (const p of node.items) walk(p.value as Node | null, join(path, keyText(p)), node, p, scope);
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => walk(item as Node | null, `${path}[${i}]`, node, undefined, scope));
    } else if (isScalar(node) && parent && typeof node.value === 'string') {
      if (isStringTag(node)) visitString(node, node.value, path, parent, pair, scope);
      else if (findPlaceholders(node.value, scope.mode).length && node.tag !== BINARY) {
        // Left alone, the placeholder would reach the cluster verbatim.
        const location = locate(node.range?.[0] ?? 0, { resource: scope.resource.label, yamlPath: path });
        out.errors.push(new VaultfillError('PLACEHOLDER_SYNTAX', `a placeholder under the tag ${node.tag} is not resolved; remove the tag`, { location }));
      }
    }
  };

  const visitString = (node: Scalar, value: string, path: string, parent: YAMLMap | YAMLSeq, pair: Pair | undefined, scope: Scope): void => {
    let text = value;
    let base64 = false;
    if (!mayContain(value, scope.mode)) {
      const decoded = scope.isSecret ? decodeBase64Text(value) : undefined;
      if (decoded === undefined || !mayContain(decoded, scope.mode)) return;
      text = decoded;
      base64 = true;
    }
    const found = findPlaceholders(text, scope.mode);
    if (!found.length) return;
    const start = node.range?.[0] ?? 0;
    const source = parsed.chunk.text.slice(start, node.range?.[1] ?? start);
    const base: Location = { resource: scope.resource.label, yamlPath: path };
    const references: Reference[] = [];
    for (const f of found) {
      const at = base64 ? -1 : source.indexOf(f.raw);
      const location = locate(at >= 0 ? start + at : start, { ...base, placeholder: f.raw });
      if ('error' in f) {
        out.errors.push(f.error.at(location));
        continue;
      }
      const request = requestOf(f.placeholder, scope);
      if (request instanceof VaultfillError) out.errors.push(request.at(location));
      else if (options.pathValidation && !options.pathValidation.test(request.path)) {
        out.errors.push(new VaultfillError('PATH_VALIDATION', `path "${request.path}" does not match AVP_PATH_VALIDATION`, { location }));
      } else references.push({ placeholder: f.placeholder, request, location });
    }
    if (references.length !== found.length) return;
    const inFlow = Boolean(parent.flow);
    out.slots.push({
      node, parent, pair, text, base64, references,
      context: { afterKey: !inFlow, inFlow },
      resource: scope.resource,
      location: locate(start, base),
    });
  };

  for (const doc of parsed.documents) visitResource(doc.contents, '');
  return out;
}

function requestOf(p: Placeholder, scope: Scope): SecretRequest | VaultfillError {
  const path = p.path ?? scope.annotationPath;
  if (!path) return new VaultfillError('PLACEHOLDER_SYNTAX', 'a generic placeholder needs the avp.kubernetes.io/path annotation');
  // HTTP clients resolve dot segments, which would read outside what AVP_PATH_VALIDATION allowed.
  if (path.split('/').some((segment) => segment === '.' || segment === '..')) {
    return new VaultfillError('PLACEHOLDER_SYNTAX', `path "${path}" must not contain "." or ".." segments`);
  }
  // AVP: KV v1 has no versions, so a version there is ignored.
  const written = p.path === undefined ? scope.secretVersion : p.version;
  if (scope.kvVersion === 1 || written === undefined) return { path, version: undefined, kvVersion: scope.kvVersion };
  if (!/^[1-9]\d*$/.test(written)) {
    return new VaultfillError('INVALID_VERSION', `version "${written}" is not a positive whole number`);
  }
  return { path, version: Number(written), kvVersion: scope.kvVersion };
}

function pathOnlyScope(options: CollectOptions): Scope {
  const resource = { kind: undefined, label: undefined, removeMissing: false, stringify: false };
  return { resource, mode: 'path-only', annotationPath: undefined, secretVersion: undefined, kvVersion: options.kvVersion, isSecret: false };
}

/** The rules a resource's annotations set, or undefined when the resource is ignored. */
function scopeOf(map: YAMLMap, options: CollectOptions, report: (message: string) => void): Scope | undefined {
  const kind = stringOf(map.get('kind'));
  const label = labelOf(map);
  const metadata = map.get('metadata');
  const annotations = isMap(metadata) ? metadata.get('annotations') : undefined;
  const annotation = (name: string): string | undefined => (isMap(annotations) ? stringOf(annotations.get(name)) : undefined);

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

/** Go's strconv.ParseBool, as AVP reads boolean annotations; anything else is false. */
function isTrue(value: string | undefined): boolean {
  return value !== undefined && TRUE_WORDS.has(value) && !FALSE_WORDS.has(value);
}

function labelOf(map: YAMLMap): string | undefined {
  const kind = stringOf(map.get('kind'));
  const metadata = map.get('metadata');
  const name = isMap(metadata) ? stringOf(metadata.get('name')) : undefined;
  if (!kind && !name) return undefined;
  return `${kind ?? '?'}/${name ?? '?'}`;
}

function stringOf(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

function keyText(pair: Pair): string {
  const key = pair.key;
  return isScalar(key) ? String(key.value) : String(key);
}

function join(path: string, key: string): string {
  const segment = /^[A-Za-z_][A-Za-z0-9_-]*$/.test(key) ? key : `[${JSON.stringify(key)}]`;
  if (!path) return segment.startsWith('[') ? segment : segment;
  return segment.startsWith('[') ? `${path}${segment}` : `${path}.${segment}`;
}

const BINARY = 'tag:yaml.org,2002:binary';

function isStringTag(node: Scalar): boolean {
  return node.tag === undefined || node.tag === 'tag:yaml.org,2002:str';
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** The text a canonical base64 string encodes, or undefined when it is not base64 of UTF-8 text. */
function decodeBase64Text(value: string): string | undefined {
  if (value.length % 4 !== 0 || value.length < 8 || !BASE64.test(value)) return undefined;
  const bytes = Buffer.from(value, 'base64');
  if (bytes.toString('base64') !== value) return undefined;
  try {
    return UTF8.decode(bytes);
  } catch {
    return undefined;
  }
}

/**
 * Documents → references: finds every placeholder in the parsed documents, with the resource
 * rules (annotations, Secret base64, ConfigMap strings) and a location for each. Pure.
 */
import type { Node, Pair, Scalar, YAMLMap, YAMLSeq } from 'yaml';
import type { SecretRequest } from '../backends/types.js';
import { VaultfillError, type Location } from '../errors.js';
import type { Chunk, ParsedChunk } from '../manifest/documents.js';
import { flowText, removePair, renderLiteral, renderString, setString, setTyped, type TextEdit } from '../manifest/edit.js';
import type { ScannedDocument, ScannedScalar } from '../manifest/line-scan.js';
import { joinPath } from '../manifest/yaml-path.js';
import { findPlaceholders, mayContain, type Placeholder } from './grammar.js';
import { annotationsOf, labelOf, pathOnlyScope, scopeOf, stringOf, type Resource, type Scope } from './scope.js';
import { yaml } from '../yaml.js';

export interface Reference {
  readonly placeholder: Placeholder;
  readonly request: SecretRequest;
  /** Worked out when read: only errors and `check` need it. */
  readonly location: Location;
}

/** Where a slot's value is written: a CST node of a parsed document, or a text range of a scanned one. */
export interface EditTarget {
  /** A map entry that remove-missing may drop. */
  readonly removable: boolean;
  setString(value: string): void;
  setTyped(value: unknown): void;
  remove(): void;
}

/** One string scalar holding placeholders. */
export interface Slot {
  readonly target: EditTarget;
  readonly resource: Resource;
  /** The string the placeholders are in (decoded, for a base64 Secret value). */
  readonly text: string;
  readonly base64: boolean;
  readonly references: readonly Reference[];
}

export interface CollectOptions {
  readonly kvVersion: 1 | 2;
  readonly pathValidation: RegExp | undefined;
}

export interface Collected {
  readonly slots: Slot[];
  readonly errors: VaultfillError[];
}

type Locate = (offset: number, extra?: Partial<Location>) => Location;

/** Placeholders in a document parsed by `yaml` (any YAML); edits go to its CST. */
export function collect(parsed: ParsedChunk, options: CollectOptions): Collected {
  const { isMap, isScalar, isSeq } = yaml();
  const out: Collected = { slots: [], errors: [] };
  const { chunk, lines } = parsed;
  const locate: Locate = (offset, extra = {}) => {
    const pos = lines.linePos(offset);
    return { source: chunk.source.name, line: chunk.line + pos.line - 1, column: pos.col, document: chunk.index, ...extra };
  };

  const visitResource = (node: Node | null, path: string): void => {
    if (!isMap(node)) {
      if (node) walk(node, path, undefined, undefined, pathOnlyScope(options));
      return;
    }
    const view = { kind: stringOf(node.get('kind')), label: labelOf(node), annotation: annotationsOf(node) };
    const scope = scopeOf(view, options, (message) => out.errors.push(new VaultfillError('ANNOTATION_INVALID', message, { location: locate(node.range?.[0] ?? 0, { resource: view.label }) })));
    if (!scope) return;
    const items = node.get('items');
    const isList = view.kind?.endsWith('List') === true && isSeq(items);
    for (const pair of node.items) {
      const key = keyText(pair);
      if (isList && key === 'items' && isSeq(pair.value)) {
        pair.value.items.forEach((item, i) => visitResource(item as Node, `${path}items[${i}]`));
      } else {
        walk(pair.value as Node | null, joinPath(path, key), node, pair, scope);
      }
    }
  };

  const walk = (node: Node | null, path: string, parent: YAMLMap | YAMLSeq | undefined, pair: Pair | undefined, scope: Scope): void => {
    if (isMap(node)) {
      for (const p of node.items) walk(p.value as Node | null, joinPath(path, keyText(p)), node, p, scope);
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => walk(item as Node | null, `${path}[${i}]`, node, undefined, scope));
    } else if (isScalar(node) && parent && typeof node.value === 'string') {
      const start = node.range?.[0] ?? 0;
      if (isStringTag(node)) {
        const source = chunk.text.slice(start, node.range?.[1] ?? start);
        visitString(out, options, locate, node.value, start, source, path, scope, () => cstTarget(node, parent, pair));
      } else if (findPlaceholders(node.value, scope.mode).length && node.tag !== BINARY) {
        // Left alone, the placeholder would reach the cluster verbatim.
        const location = locate(start, { resource: scope.resource.label, yamlPath: path });
        out.errors.push(new VaultfillError('PLACEHOLDER_SYNTAX', `a placeholder under the tag ${node.tag} is not resolved; remove the tag`, { location }));
      }
    }
  };

  for (const doc of parsed.documents) visitResource(doc.contents, '');
  return out;
}

/** Placeholders in a document read by the line scanner; edits are collected as text replacements. */
export function collectScanned(chunk: Chunk, doc: ScannedDocument, edits: TextEdit[], options: CollectOptions): Collected {
  const out: Collected = { slots: [], errors: [] };
  const locate = lineLocator(chunk);
  const label = `${doc.kind}/${doc.name ?? '?'}`;
  const view = { kind: doc.kind, label, annotation: (name: string) => doc.annotations.get(name) };
  const scope = scopeOf(view, options, (message) => out.errors.push(new VaultfillError('ANNOTATION_INVALID', message, { location: locate(0, { resource: label }) })));
  if (!scope) return out;
  for (const scalar of doc.scalars) {
    const source = chunk.text.slice(scalar.start, scalar.end);
    visitString(out, options, locate, scalar.value, scalar.start, source, scalar.path, scope, () => new TextTarget(scalar, edits));
  }
  return out;
}

/** One string value: its placeholders become a slot, or errors with locations. */
function visitString(
  out: Collected, options: CollectOptions, locate: Locate,
  value: string, start: number, source: string, path: string, scope: Scope, target: () => EditTarget,
): void {
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
  const base: Location = { resource: scope.resource.label, yamlPath: path };
  const references: Reference[] = [];
  const where = (offset: number, raw: string): Location => locate(offset, { ...base, placeholder: raw });
  for (const f of found) {
    const at = base64 ? -1 : source.indexOf(f.raw);
    const offset = at >= 0 ? start + at : start;
    if ('error' in f) {
      out.errors.push(f.error.at(where(offset, f.raw)));
      continue;
    }
    const request = requestOf(f.placeholder, scope);
    if (request instanceof VaultfillError) out.errors.push(request.at(where(offset, f.raw)));
    else if (options.pathValidation && !options.pathValidation.test(request.path)) {
      out.errors.push(new VaultfillError('PATH_VALIDATION', `path "${request.path}" does not match AVP_PATH_VALIDATION`, { location: where(offset, f.raw) }));
    } else references.push(new LocatedReference(f.placeholder, request, locate, offset, base));
  }
  // With a broken placeholder beside them, the good ones are still read and checked, so every
  // problem of the value is reported in this run; the run writes nothing anyway.
  if (!references.length) return;
  out.slots.push({ target: target(), text, base64, references, resource: scope.resource });
}

/**
 * A reference that works out its line and column when they are read. A run that succeeds never
 * reads them: with documents' lines counted lazily too (manifest/documents.ts), B2 no longer
 * counts its 240,000 lines or builds ~900 locations (−15 ms wall, −20 ms CPU).
 */
class LocatedReference implements Reference {
  #location: Location | undefined;

  constructor(
    readonly placeholder: Placeholder,
    readonly request: SecretRequest,
    private readonly locate: Locate,
    private readonly offset: number,
    private readonly base: Location,
  ) {}

  get location(): Location {
    this.#location ??= this.locate(this.offset, { ...this.base, placeholder: this.placeholder.raw });
    return this.#location;
  }
}

function cstTarget(node: Scalar, parent: YAMLMap | YAMLSeq, pair: Pair | undefined): EditTarget {
  const inFlow = Boolean(parent.flow);
  const context = { afterKey: !inFlow, inFlow };
  return {
    removable: pair !== undefined && yaml().isMap(parent),
    setString: (value) => setString(node, value, context),
    setTyped: (value) => setTyped(node, value, context),
    remove: () => {
      if (pair && yaml().isMap(parent)) removePair(parent, pair);
    },
  };
}

/** A class, not an object of closures: there is one per slot, and closures cost ~4× the memory. */
class TextTarget implements EditTarget {
  constructor(
    private readonly scalar: ScannedScalar,
    private readonly edits: TextEdit[],
  ) {}

  get removable(): boolean {
    return this.scalar.line !== undefined;
  }

  setString(value: string): void {
    const { scalar } = this;
    const text = scalar.style === 'literal' ? renderLiteral(value, ' '.repeat(scalar.indent ?? 2)) : renderString(value, scalar.style);
    this.edits.push({ start: scalar.start, end: scalar.end, text });
  }

  setTyped(value: unknown): void {
    this.edits.push({ start: this.scalar.start, end: this.scalar.end, text: flowText(value) });
  }

  remove(): void {
    const { line } = this.scalar;
    if (line) this.edits.push({ start: line.start, end: line.end, text: '' });
  }
}

/** Line and column of an offset in a chunk, by bisection over its line starts (built on first use). */
function lineLocator(chunk: Chunk): Locate {
  let starts: number[] | undefined;
  return (offset, extra = {}) => {
    if (!starts) {
      starts = [0];
      for (let i = chunk.text.indexOf('\n'); i !== -1; i = chunk.text.indexOf('\n', i + 1)) starts.push(i + 1);
    }
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((starts[mid] as number) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { source: chunk.source.name, line: chunk.line + lo, column: offset - (starts[lo] as number) + 1, document: chunk.index, ...extra };
  };
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

function keyText(pair: Pair): string {
  const key = pair.key;
  return yaml().isScalar(key) ? String(key.value) : String(key);
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

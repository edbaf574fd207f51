/**
 * Documents → references: finds every placeholder in the parsed documents, with the resource
 * rules (annotations, Secret base64, ConfigMap strings) and a location for each. Pure.
 */
import type { Node, Pair, Scalar, YAMLMap, YAMLSeq } from 'yaml';
import type { SecretRequest } from '../backends/types.js';
import { VaultfillError, type Location } from '../errors.js';
import type { PathPattern } from '../path-pattern.js';
import type { Chunk, ParsedChunk } from '../manifest/documents.js';
import { renderString, renderTyped, type ScalarSite, type ScalarStyle, type TextEdit } from '../manifest/edit.js';
import { isBase64Shaped, type ScannedDocument } from '../manifest/line-scan.js';
import { joinPath } from '../manifest/yaml-path.js';
import { findPlaceholders, mayContain, type Placeholder } from './grammar.js';
import { inSecretData, pathOnlyScope, scopeOf, stringsOnly, viewOf, type Resource, type Scope } from './scope.js';
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
  /** Resolved values are written as strings (a ConfigMap, stringData, annotations, an explicit !!str). */
  readonly stringify: boolean;
  readonly references: readonly Reference[];
}

export interface CollectOptions {
  readonly kvVersion: 1 | 2;
  readonly pathValidation: PathPattern | undefined;
  /** Tests only: read every document with the full parser, to hold the line scanner to it. */
  readonly fullParser?: boolean;
}

export interface Collected {
  readonly slots: Slot[];
  readonly errors: VaultfillError[];
}

type Locate = (offset: number, extra?: Partial<Location>) => Location;

/** Placeholders in a document parsed by `yaml` (any YAML); edits are text replacements of its scalars. */
export function collect(parsed: ParsedChunk, edits: TextEdit[], options: CollectOptions): Collected {
  const { isMap, isScalar, isSeq } = yaml();
  const out: Collected = { slots: [], errors: [] };
  const { chunk, lines } = parsed;
  const { text } = chunk;
  const locate: Locate = (offset, extra = {}) => {
    const pos = lines.linePos(offset);
    return { source: chunk.source.name, line: chunk.line + pos.line - 1, column: pos.col, document: chunk.index, ...extra };
  };

  const visitResource = (node: Node | null, path: string): void => {
    if (!isMap(node)) {
      if (node) walk(node, path, undefined, undefined, pathOnlyScope(options));
      return;
    }
    const problems: string[] = [];
    const view = viewOf(node, (message) => problems.push(message));
    const report = (message: string): void => {
      out.errors.push(new VaultfillError('ANNOTATION_INVALID', message, { location: locate(node.range?.[0] ?? 0, { resource: view.label }) }));
    };
    problems.forEach(report);
    const scope = scopeOf(view, options, report, path);
    if (!scope) return;
    const isList = view.kind?.endsWith('List') === true;
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
    if (pair && isScalar(pair.key) && typeof pair.key.value === 'string' && findPlaceholders(pair.key.value, scope.mode).length) {
      const location = locate(pair.key.range?.[0] ?? 0, { resource: scope.resource.label, yamlPath: path });
      out.errors.push(new VaultfillError('PLACEHOLDER_SYNTAX', 'a placeholder in a mapping key is not resolved; put it in a value', { location }));
    }
    if (isMap(node)) {
      for (const p of node.items) walk(p.value as Node | null, joinPath(path, keyText(p)), node, p, scope);
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => walk(item as Node | null, `${path}[${i}]`, node, undefined, scope));
    } else if (isScalar(node) && parent && typeof node.value === 'string') {
      const start = node.range?.[0] ?? 0;
      if (isStringTag(node)) {
        const site = siteOf(text, node, Boolean(parent.flow));
        // An explicit `!!str` stays: a typed value written after it would be read as a string, or not at all.
        const tagged = node.tag !== undefined;
        visitString(out, options, locate, node.value, start, text.slice(site.start, site.end), path, scope, () => new TextTarget(site, pair && isMap(parent) ? removal(text, parent, pair) : undefined, edits), tagged);
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

const STYLES: Record<string, ScalarStyle> = { PLAIN: 'plain', QUOTE_SINGLE: 'single', QUOTE_DOUBLE: 'double', BLOCK_LITERAL: 'literal', BLOCK_FOLDED: 'folded' };

/** Where a parsed scalar stands in the text, described as the line scanner describes one. */
function siteOf(text: string, node: Scalar, inFlow: boolean): ScalarSite {
  const [start = 0, end = start] = node.range ?? [];
  const style = STYLES[node.type ?? 'PLAIN'] ?? 'plain';
  if (style !== 'literal' && style !== 'folded') return { start, end, style, inFlow, indent: undefined, eol: '\n' };
  // A block scalar: its header line, then its content lines up to the last that is not blank.
  const headerEnd = text.indexOf('\n', start);
  const eol = text[headerEnd - 1] === '\r' ? '\r\n' : '\n';
  let last = end;
  let indent: number | undefined;
  for (let at = headerEnd + 1; at < end; ) {
    const nl = text.indexOf('\n', at);
    const lineEnd = nl === -1 || nl > end ? end : nl;
    const line = text.slice(at, lineEnd).replace(/\r$/, '');
    if (line.trim()) {
      indent ??= line.length - line.trimStart().length;
      last = at + line.length;
    }
    at = lineEnd + 1;
  }
  return { start, end: indent === undefined ? headerEnd : last, style, inFlow, indent: indent ?? 2, eol };
}

/**
 * The text to delete so `pair` leaves `map` (remove-missing), or undefined when that is not a
 * clean cut: in a block map, the pair's whole lines when its key begins its line (the rule the
 * line scanner applies); in a flow map, the pair with one of its separating commas.
 */
function removal(text: string, map: YAMLMap, pair: Pair): { readonly start: number; readonly end: number } | undefined {
  const keyStart = (pair.key as Node | null)?.range?.[0];
  const valueEnd = (pair.value as Node | null)?.range?.[1];
  if (keyStart === undefined || valueEnd === undefined) return undefined;
  if (!map.flow) {
    const lineStart = text.lastIndexOf('\n', keyStart - 1) + 1;
    if (text.slice(lineStart, keyStart).trim()) return undefined;
    const nl = text.indexOf('\n', Math.max(valueEnd - 1, keyStart));
    return { start: lineStart, end: nl === -1 ? text.length : nl + 1 };
  }
  const index = map.items.indexOf(pair);
  const next = map.items[index + 1];
  const nextStart = (next?.key as Node | null | undefined)?.range?.[0];
  if (nextStart !== undefined) return { start: keyStart, end: nextStart };
  const previousEnd = index > 0 ? ((map.items[index - 1]?.value ?? map.items[index - 1]?.key) as Node | null)?.range?.[1] : undefined;
  return { start: previousEnd ?? keyStart, end: valueEnd };
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
    visitString(out, options, locate, scalar.value, scalar.start, source, scalar.path, scope, () => new TextTarget(scalar, scalar.line, edits));
  }
  return out;
}

/** One string value: its placeholders become a slot, or errors with locations. */
function visitString(
  out: Collected, options: CollectOptions, locate: Locate,
  value: string, start: number, source: string, path: string, scope: Scope, target: () => EditTarget, tagged = false,
): void {
  let text = value;
  let base64 = false;
  if (!mayContain(value, scope.mode)) {
    const decoded = inSecretData(scope, path) ? decodeBase64Text(value) : undefined;
    if (decoded === undefined || !mayContain(decoded, scope.mode)) {
      // JSON inside a string (Helm's `toJson | quote`) keeps `<` escaped after YAML has read it:
      // the placeholder cannot be filled without knowing that escaping, and must not pass.
      if (ESCAPED_PLACEHOLDER.test(value)) {
        const location = locate(start, { resource: scope.resource.label, yamlPath: path });
        out.errors.push(new VaultfillError('PLACEHOLDER_SYNTAX', 'a placeholder written as \\u003cpath:… inside this value (JSON text in a string, e.g. Helm\'s `toJson | quote`) is not resolved; write it unescaped (Helm: toRawJson)', { location }));
      }
      return;
    }
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
  out.slots.push({ target: target(), text, base64, stringify: tagged || stringsOnly(scope, path), references, resource: scope.resource });
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

/** A class, not an object of closures: there is one per slot, and closures cost ~4× the memory. */
class TextTarget implements EditTarget {
  constructor(
    private readonly site: ScalarSite,
    private readonly cut: { readonly start: number; readonly end: number } | undefined,
    private readonly edits: TextEdit[],
  ) {}

  get removable(): boolean {
    return this.cut !== undefined;
  }

  setString(value: string): void {
    this.edits.push({ start: this.site.start, end: this.site.end, text: renderString(value, this.site) });
  }

  setTyped(value: unknown): void {
    this.edits.push({ start: this.site.start, end: this.site.end, text: renderTyped(value) });
  }

  remove(): void {
    if (this.cut) this.edits.push({ start: this.cut.start, end: this.cut.end, text: '' });
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

const UTF8 = new TextDecoder('utf-8', { fatal: true });
const ESCAPED_PLACEHOLDER = /\\(?:u003[cC]|x3[cC])path:/;

/** The text a canonical base64 string encodes, or undefined when it is not base64 of UTF-8 text. */
function decodeBase64Text(value: string): string | undefined {
  if (!isBase64Shaped(value)) return undefined;
  const bytes = Buffer.from(value, 'base64');
  if (bytes.toString('base64') !== value) return undefined;
  try {
    return UTF8.decode(bytes);
  } catch {
    return undefined;
  }
}

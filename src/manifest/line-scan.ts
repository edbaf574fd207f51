/**
 * A fast reader for the block YAML that Helm and Kustomize emit: indented maps and sequences
 * with single-line plain or quoted scalars, and literal block scalars. It finds the resource's
 * kind, name and annotations and the scalars that may hold placeholders, in one pass over the
 * lines and without building a syntax tree (the `yaml` parser costs ~1 µs per byte). Parts
 * nested under a key that hold no `<` are passed over unread (see scan). Anything outside that
 * subset on the lines it reads — a placeholder in a flow collection or a folded block or a
 * key, multi-line flow scalars, anchors, aliases, tags, escapes (a `<` may hide in one), tabs,
 * `kind: *List`, JSON, an avp.kubernetes.io annotation that might not read as a string —
 * returns undefined, and the caller uses the full parser, which also reports errors
 * precisely. Of duplicate keys the last wins, as for the full parser and Kubernetes.
 */
import { hasEscapedAngle } from './documents.js';
import { isPlainSafe, type ScalarSite } from './edit.js';
import { joinPath } from './yaml-path.js';

/** A scalar read by the scanner: its site (always in block context; literal blocks without CRs) and value. */
export interface ScannedScalar extends ScalarSite {
  readonly value: string;
  readonly path: string;
  /** The `key: value` lines (start, end incl. newline) when the key begins its line: removable. */
  readonly line: { readonly start: number; readonly end: number } | undefined;
}

export interface ScannedDocument {
  readonly kind: string;
  readonly name: string | undefined;
  readonly annotations: ReadonlyMap<string, string>;
  readonly scalars: readonly ScannedScalar[];
}

/** An open map or sequence. Its YAML path is built only when a value in it needs one. */
interface Frame {
  readonly indent: number;
  readonly seq: boolean;
  /** The frame holding this one, and the key or index it is under (none for the root). */
  readonly parent: Frame | undefined;
  readonly segment: string | number;
  path: string | undefined;
  next: number;
}

function pathOf(frame: Frame | undefined, segment: string | number): string {
  if (!frame) return '';
  frame.path ??= pathOf(frame.parent, frame.segment);
  return typeof segment === 'number' ? `${frame.path}[${segment}]` : joinPath(frame.path, segment);
}

const KIND_LINE = /^kind:[ \t]*(["']?)([A-Za-z0-9.]+)\1[ \t]*(?:#.*)?\r?$/m;
const BASE64_SHAPE = /^[A-Za-z0-9+/]+={0,2}$/;

/** Could be canonical base64 (a Secret's `data` value); `<k>`, the shortest placeholder, is 4 characters encoded. */
export function isBase64Shaped(value: string): boolean {
  return value.length >= 4 && value.length % 4 === 0 && BASE64_SHAPE.test(value);
}
const BLOCK_HEADER = /^[|>][1-9+-]{0,2}[ \t]*(?:#.*)?$/;
const LITERAL_HEADER = /^\|([+-]?)[ ]*$/;
const NOT_PLAIN_START = new Set([...',[]{}#&*!|>%@`\'"?']);

class Unsupported extends Error {}
const unsupported = (): never => {
  throw new Unsupported();
};

export function scanDocument(text: string): ScannedDocument | undefined {
  const kindMatch = KIND_LINE.exec(text);
  const kind = kindMatch?.[2];
  if (!kind || kind.endsWith('List') || hasEscapedAngle(text)) return undefined;
  try {
    return scan(text, kind);
  } catch (error) {
    if (error instanceof Unsupported) return undefined;
    throw error;
  }
}

function scan(text: string, kind: string): ScannedDocument {
  const isSecret = kind === 'Secret';
  const scalars: ScannedScalar[] = [];
  const annotations = new Map<string, string>();
  let name: string | undefined;
  let seenKind: string | undefined;
  const stack: Frame[] = [];
  let root: Frame | undefined;
  // A node expected on later lines, after `key:` (fromKey) or a bare `-`: where it goes.
  let pending = false;
  let pendingParent: Frame | undefined;
  let pendingSegment: string | number = '';
  let pendingIndent = 0;
  let pendingFromKey = false;
  const expect = (parent: Frame, segment: string | number, indent: number, fromKey: boolean): void => {
    pending = true;
    pendingParent = parent;
    pendingSegment = segment;
    pendingIndent = indent;
    pendingFromKey = fromKey;
  };
  const open = (indent: number, seq: boolean): Frame => {
    const frame: Frame = { indent, seq, parent: pendingParent, segment: pendingSegment, path: undefined, next: 0 };
    stack.push(frame);
    pending = false;
    return frame;
  };
  // After a scalar value, a deeper line would be a multi-line scalar.
  let scalarIndent: number | undefined;

  const openSeq = (col: number): Frame => {
    while (stack.length && (stack[stack.length - 1] as Frame).indent > col) stack.pop();
    const top = stack[stack.length - 1];
    if (top?.seq && top.indent === col) return top;
    if (!pending || col < pendingIndent || (col === pendingIndent && !pendingFromKey)) return unsupported();
    return open(col, true);
  };
  const openMap = (col: number): Frame => {
    while (stack.length && ((stack[stack.length - 1] as Frame).indent > col || ((stack[stack.length - 1] as Frame).indent === col && (stack[stack.length - 1] as Frame).seq))) stack.pop();
    const top = stack[stack.length - 1];
    if (pending && col > pendingIndent) return open(col, false);
    if (top && !top.seq && top.indent === col) {
      pending = false;
      return top;
    }
    if (!root && !pending) {
      root = { indent: col, seq: false, parent: undefined, segment: '', path: '', next: 0 };
      stack.push(root);
      return root;
    }
    return unsupported();
  };

  let lineStart = 0;
  while (lineStart < text.length) {
    let lineEnd = text.indexOf('\n', lineStart);
    lineEnd = lineEnd < 0 ? text.length : lineEnd + 1;
    let end = lineEnd;
    if (text[end - 1] === '\n') end--;
    if (text[end - 1] === '\r') end--;
    let pos = lineStart;
    while (pos < end && text[pos] === ' ') pos++;
    const next = lineEnd;
    if (pos >= end || text[pos] === '#') {
      lineStart = next;
      continue;
    }
    if (text[pos] === '\t') unsupported();
    const indent = pos - lineStart;
    if (indent === 0 && (text.startsWith('---', pos) || text.startsWith('...', pos) || text[pos] === '%')) unsupported();
    if (scalarIndent !== undefined && indent > scalarIndent) unsupported();
    scalarIndent = undefined;

    // The innermost sequence item this line starts, if any.
    let item: Frame | undefined;
    let itemIndex = 0;
    let owner = indent; // column that a scalar on this line belongs to
    while (text[pos] === '-' && (pos + 1 === end || text[pos + 1] === ' ')) {
      item = openSeq(pos - lineStart);
      itemIndex = item.next++;
      owner = pos - lineStart;
      expect(item, itemIndex, owner, false);
      pos++;
      while (pos < end && text[pos] === ' ') pos++;
    }
    if (pos >= end || text[pos] === '#') {
      lineStart = next;
      continue;
    }

    const key = readKey(text, pos, end);
    if (key?.key.includes('<')) unsupported();
    let valueAt: number;
    // Where the value on this line goes: a key of a map, or an item of a sequence.
    let parent: Frame;
    let segment: string | number;
    // A `key: value` line that begins with its key can be removed whole (remove-missing).
    const removable = key !== undefined && item === undefined;
    if (key) {
      parent = openMap(pos - lineStart);
      segment = key.key;
      owner = pos - lineStart;
      valueAt = key.valueAt;
      while (valueAt < end && text[valueAt] === ' ') valueAt++;
      if (valueAt >= end || text[valueAt] === '#') {
        expect(parent, segment, owner, true);
        lineStart = next;
        // What is nested under the key is passed over in one search when it holds no `<` and
        // nothing vaultfill reads (metadata.name and annotations; every value of a Secret).
        // So only the lines on the way to a placeholder, and their siblings, are read: a
        // Deployment's ports, probes and resources are neither looked at nor validated.
        if (!isSecret && !(parent === root && segment === 'metadata') && !(parent.parent === root && parent.segment === 'metadata' && segment === 'annotations')) {
          // The end is looked for only up to the next `<`: on the way to a placeholder every
          // ancestor's search would otherwise run to the end of its part.
          const angle = text.indexOf('<', next);
          const after = subtreeEnd(text, next, owner, angle === -1 ? text.length : angle);
          if (after !== undefined || angle === -1) {
            pending = false;
            lineStart = after ?? text.length;
          }
        }
        continue;
      }
    } else {
      if (item === undefined) return unsupported();
      parent = item;
      segment = itemIndex;
      valueAt = pos;
    }
    pending = false;

    const first = text[valueAt] as string;
    if (first === '|' || first === '>') {
      const header = text.slice(valueAt, end);
      if (!BLOCK_HEADER.test(header) || describesResource(pathOf(parent, segment))) unsupported();
      // The block's lines: blank, or deeper than the line that owns it.
      let blockEnd = next;
      let angle = false;
      while (blockEnd < text.length) {
        const nl = text.indexOf('\n', blockEnd);
        const lineText = text.slice(blockEnd, nl < 0 ? text.length : nl);
        if (lineText.trim() && lineText.length - lineText.trimStart().length <= owner) break;
        if (lineText.includes('\t') || lineText.includes('\r')) unsupported();
        angle ||= lineText.includes('<');
        blockEnd = nl < 0 ? text.length : nl + 1;
      }
      // A Secret's block could be base64; a block that may hold a placeholder is read when it
      // is a literal one without an indentation indicator or comment (what Helm emits).
      if (isSecret || angle) {
        const chomp = LITERAL_HEADER.exec(header)?.[1] ?? unsupported();
        const block = readLiteral(text, next, blockEnd, chomp);
        if (block.value.includes('<') || (isSecret && isBase64Shaped(block.value))) {
          scalars.push({
            start: valueAt, end: block.end, value: block.value, style: 'literal', inFlow: false, indent: block.indent, eol: text[next - 2] === '\r' ? '\r\n' : '\n', path: pathOf(parent, segment),
            line: removable ? { start: lineStart, end: block.end + 1 } : undefined,
          });
        }
      }
      lineStart = blockEnd;
      continue;
    }
    if (first === '{' || first === '[') {
      const flow = text.slice(valueAt, end);
      if (flow.includes('<') || isSecret || describesResource(pathOf(parent, segment)) || !balanced(flow)) unsupported();
      lineStart = next;
      continue;
    }
    const scalar = readScalar(text, valueAt, end);
    scalarIndent = owner;
    if (key) {
      // kind, metadata.name and metadata.annotations, found by their place, not by path strings.
      const grand = parent.parent;
      if (parent === root && segment === 'kind') seenKind = scalar.value;
      else if (grand === root && grand && parent.segment === 'metadata' && segment === 'name') name = scalar.value;
      else if (grand?.parent === root && grand?.parent && grand.segment === 'metadata' && parent.segment === 'annotations') {
        // An avp.kubernetes.io value that some reader might not take as a string is left to
        // the full parser, which checks it with YAML 1.1 and 1.2 (placeholder/scope.ts).
        if (scalar.style === 'plain' && key.key.startsWith('avp.kubernetes.io/') && !isPlainSafe(scalar.value, false)) unsupported();
        annotations.set(key.key, scalar.value);
      }
    }
    if (scalar.value.includes('<') || (isSecret && isBase64Shaped(scalar.value))) {
      scalars.push({
        start: scalar.start, end: scalar.end, value: scalar.value, style: scalar.style, inFlow: false, indent: undefined, eol: '\n', path: pathOf(parent, segment),
        line: removable ? { start: lineStart, end: lineEnd } : undefined,
      });
    }
    lineStart = next;
  }
  if (seenKind !== kind || !root) unsupported();
  return { kind, name, annotations, scalars };
}

const SUBTREE_ENDS = new Map<number, RegExp>();

/**
 * Where the lines nested under a `key:` at column `owner` end, if that is before `limit`: the
 * first line from `from` (a line start) that is indented `owner` or less and is not blank, a
 * comment, or an item of a sequence written at the key's own column (`key:` then `- a`).
 */
function subtreeEnd(text: string, from: number, owner: number, limit: number): number | undefined {
  let line = SUBTREE_ENDS.get(owner);
  if (!line) SUBTREE_ENDS.set(owner, (line = new RegExp(`\\n( {0,${owner}})(?=[^ \\r\\n#])`, 'g')));
  // Searched in a slice that starts at the line break before `from` and stops at `limit`.
  const part = text.slice(from - 1, limit);
  line.lastIndex = 0;
  for (let m = line.exec(part); m; m = line.exec(part)) {
    const at = from + m.index + (m[1] as string).length;
    const after = text[at + 1];
    if (m[1]?.length !== owner || text[at] !== '-' || (after !== undefined && after !== ' ' && after !== '\n' && after !== '\r')) return from + m.index;
  }
  return undefined;
}

/**
 * A literal block scalar's value from its lines `[from, to)` (all deeper than the owner, no
 * tabs or CRs), with its content indentation and the end of its last content line. Leading
 * blank lines and blank lines deeper than the content are declined.
 */
function readLiteral(text: string, from: number, to: number, chomp: string): { value: string; indent: number; end: number } {
  const lines: string[] = [];
  let indent = -1;
  let last = -1;
  let end = from;
  for (let at = from; at < to; ) {
    const nl = text.indexOf('\n', at);
    const lineEnd = nl < 0 || nl >= to ? to : nl;
    const line = text.slice(at, lineEnd);
    const spaces = line.length - line.trimStart().length;
    if (spaces === line.length) {
      if (indent < 0 || spaces > indent) unsupported();
      lines.push('');
    } else {
      if (indent < 0) indent = spaces;
      if (spaces < indent) unsupported();
      lines.push(line.slice(indent));
      last = lines.length - 1;
      end = lineEnd;
    }
    at = lineEnd + 1;
  }
  if (last < 0) unsupported();
  const content = lines.slice(0, last + 1).join('\n');
  const value = chomp === '-' ? content : chomp === '+' ? `${content}\n${'\n'.repeat(lines.length - 1 - last)}` : `${content}\n`;
  return { value, indent, end };
}

/** `key:` at `pos` (plain or single-line quoted), or undefined when the line holds a scalar. */
function readKey(text: string, pos: number, end: number): { key: string; valueAt: number } | undefined {
  const first = text[pos] as string;
  if (first === '"' || first === "'") {
    const quoted = readQuoted(text, pos, end);
    if (text[quoted.end] === ':' && (quoted.end + 1 === end || text[quoted.end + 1] === ' ')) return { key: quoted.value, valueAt: quoted.end + 1 };
    return undefined;
  }
  if (NOT_PLAIN_START.has(first) && first !== '"' && first !== "'") {
    if (first === '?' || first === '&' || first === '*' || first === '!' || first === '%' || first === '@' || first === '`') unsupported();
    return undefined;
  }
  for (let i = pos; i < end; i++) {
    const c = text[i];
    if (c === ':' && (i + 1 === end || text[i + 1] === ' ')) return { key: text.slice(pos, i).trimEnd(), valueAt: i + 1 };
    if (c === '#' && text[i - 1] === ' ') return undefined;
  }
  return undefined;
}

function readScalar(text: string, pos: number, end: number): { start: number; end: number; value: string; style: 'plain' | 'single' | 'double' } {
  const first = text[pos] as string;
  if (first === '"' || first === "'") {
    const quoted = readQuoted(text, pos, end);
    const rest = text.slice(quoted.end, end);
    if (rest.trim() && !/^[ ]+#/.test(rest)) unsupported();
    return { start: pos, end: quoted.end, value: quoted.value, style: first === '"' ? 'double' : 'single' };
  }
  if (NOT_PLAIN_START.has(first) || ((first === '-' || first === ':') && text[pos + 1] === ' ')) unsupported();
  const line = text.slice(pos, end);
  const comment = line.indexOf(' #');
  const value = (comment >= 0 ? line.slice(0, comment) : line).trimEnd();
  if (value.includes(': ') || value.endsWith(':') || value.includes('\t')) unsupported();
  return { start: pos, end: pos + value.length, value, style: 'plain' };
}

function readQuoted(text: string, pos: number, end: number): { value: string; end: number } {
  const quote = text[pos];
  if (quote === '"') {
    const close = text.indexOf('"', pos + 1);
    if (close < 0 || close >= end) return unsupported(); // indexOf stops at the next quote, on this line or soon after
    const body = text.slice(pos + 1, close);
    if (body.includes('\\')) unsupported();
    return { value: body, end: close + 1 };
  }
  let i = pos + 1;
  let value = '';
  for (;;) {
    const close = text.indexOf("'", i);
    if (close < 0 || close >= end) return unsupported();
    value += text.slice(i, close);
    if (text[close + 1] !== "'") return { value, end: close + 1 };
    value += "'";
    i = close + 2;
  }
}

/** Values the scanner must read as scalars: kind, name and the annotations that steer vaultfill. */
function describesResource(path: string): boolean {
  return path === 'kind' || path === 'metadata' || path === 'metadata.name' || path === 'metadata.annotations' || path.startsWith('metadata.annotations["avp.kubernetes.io/');
}

/** A one-line flow collection: brackets balance outside quotes. */
function balanced(flow: string): boolean {
  let depth = 0;
  let quote: string | undefined;
  for (const c of flow.replace(/ #.*$/, '')) {
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
  }
  return depth === 0 && !quote;
}

/**
 * Edits applied to the CST tokens behind parsed nodes, so everything around an edited scalar
 * keeps its bytes, comments and key order.
 */
import type { Pair, Scalar, YAMLMap } from 'yaml';
import { yaml } from '../yaml.js';

export interface ScalarContext {
  /** The scalar is a block-map value or block-sequence item (affects block indentation). */
  readonly afterKey: boolean;
  readonly inFlow: boolean;
}

// Plain scalars that YAML 1.1 (Kubernetes' go-yaml) or 1.2 would read as something other than
// a string. A string value matching this is quoted.
const NOT_A_STRING =
  /^(?:~|null|Null|NULL|y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF|[-+]?(?:\.inf|\.Inf|\.INF)|\.nan|\.NaN|\.NAN|[-+]?[0-9][0-9_:.eExXoObB+-]*|[-+]?\.[0-9].*|=|<<)$/;
const PLAIN_FIRST = /^[A-Za-z0-9_/.($^]/;

/** Replaces a scalar with a string value, choosing a style that reads back as that string. */
export function setString(node: Scalar, value: string, ctx: ScalarContext): void {
  const token = node.srcToken;
  const { CST } = yaml();
  if (!token || !CST.isScalar(token)) return;
  const previous = token.type;
  let type: Scalar.Type;
  if (value.includes('\n')) {
    type = previous === 'block-scalar' ? 'BLOCK_LITERAL' : 'QUOTE_DOUBLE';
  } else if (previous === 'block-scalar') {
    type = 'BLOCK_LITERAL';
  } else if (previous === 'single-quoted-scalar') {
    type = 'QUOTE_SINGLE';
  } else if (previous === 'scalar' && isPlainSafe(value, ctx.inFlow)) {
    type = 'PLAIN';
  } else {
    type = 'QUOTE_DOUBLE';
  }
  CST.setScalarValue(token, value, { afterKey: ctx.afterKey, inFlow: ctx.inFlow, type });
}

/** Replaces a scalar with a typed value: numbers, booleans and null plain, collections as flow JSON. */
export function setTyped(node: Scalar, value: unknown, ctx: ScalarContext): void {
  const token = node.srcToken;
  const { CST } = yaml();
  if (!token || !CST.isScalar(token)) return;
  CST.setScalarValue(token, 'x', { afterKey: ctx.afterKey, inFlow: ctx.inFlow, type: 'PLAIN' });
  // setScalarValue turned the token into a plain flow scalar; its source is written verbatim.
  if (token.type === 'scalar') token.source = flowText(value);
}

/** Removes `pair` from `map`, keeping the comments and indentation of the items around it. */
export function removePair(map: YAMLMap, pair: Pair): void {
  const collection = map.srcToken;
  const keyToken = (pair.key as Scalar | null)?.srcToken;
  if (!collection || !keyToken || (collection.type !== 'block-map' && collection.type !== 'flow-collection')) return;
  const index = collection.items.findIndex((item) => item.key === keyToken);
  if (index < 0) return;
  const [removed] = collection.items.splice(index, 1);
  const next = collection.items[index];
  if (!removed || !next) return;
  if (collection.type === 'block-map') {
    // The next item's first tokens indent its line; the removed item's own start already
    // holds that line's indentation (or the parent does, for the first item).
    let skip = 0;
    while (next.start[skip]?.type === 'space') skip++;
    next.start = [...removed.start, ...next.start.slice(skip)];
  } else if (index === 0) {
    // In a flow collection the separating comma belongs to the item after it.
    const comma = next.start.findIndex((t) => t.type === 'comma');
    if (comma >= 0) {
      let end = comma + 1;
      while (next.start[end]?.type === 'space') end++;
      next.start = [...next.start.slice(0, comma), ...next.start.slice(end)];
    }
  }
}

function isPlainSafe(value: string, inFlow: boolean): boolean {
  if (!PLAIN_FIRST.test(value) || value !== value.trim() || NOT_A_STRING.test(value)) return false;
  if (/[\x00-\x1f\x7f]/.test(value) || value.includes(': ') || value.includes(' #') || value.endsWith(':')) return false;
  return !(inFlow && /[,[\]{}]/.test(value));
}

/** JSON with YAML-friendly separators (`{"a": 1, "b": [2]}`): valid flow YAML for any reader. */
export function flowText(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(flowText).join(', ')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}: ${flowText(v)}`).join(', ')}}`;
  }
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return '.nan';
    if (!Number.isFinite(value)) return value > 0 ? '.inf' : '-.inf';
    return String(value);
  }
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'boolean') return String(value);
  return 'null';
}

/** A replacement of `[start, end)` in a scanned document's text. */
export interface TextEdit {
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

/** The source text of a string in a block context, keeping the previous quoting where it can. */
export function renderString(value: string, previous: 'plain' | 'single' | 'double'): string {
  const printable = !/[\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff]/.test(value);
  if (printable && previous === 'single') return `'${value.replace(/'/g, "''")}'`;
  if (printable && previous === 'plain' && isPlainSafe(value, false)) return value;
  // JSON's escapes are YAML's; YAML also wants DEL, C1 controls and line separators escaped.
  return JSON.stringify(value).replace(/[\x7f-\x9f\u2028\u2029\ufeff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

// What a literal block cannot hold: non-printable characters and line separators, a first
// content line starting with white space (it would need an indentation indicator), lines of
// only white space, and more than one final line break (keep chomping would swallow the blank
// lines after the block).
const NOT_LITERAL = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]|^\n*[ \t]|(?:^|\n)[ \t]+(?:\n|$)|\n\n$/;

/**
 * A string as a literal block scalar (`|` or `|-`, by its final line break) whose content lines
 * are indented by `indent`, without the line break after its last line; a double-quoted
 * string when a literal block cannot hold it.
 */
export function renderLiteral(value: string, indent: string): string {
  if (!value.trim() || NOT_LITERAL.test(value)) return renderString(value, 'double');
  const clip = value.endsWith('\n');
  const lines = (clip ? value.slice(0, -1) : value).split('\n');
  return `|${clip ? '' : '-'}\n${lines.map((line) => (line ? indent + line : '')).join('\n')}`;
}

/** Applies non-overlapping edits to a text. */
export function applyEdits(text: string, edits: readonly TextEdit[]): string {
  const sorted = [...edits].sort((a, b) => a.start - b.start);
  let out = '';
  let cursor = 0;
  for (const edit of sorted) {
    out += text.slice(cursor, edit.start) + edit.text;
    cursor = edit.end;
  }
  return out + text.slice(cursor);
}

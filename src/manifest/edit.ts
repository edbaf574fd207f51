/**
 * How a value is written into a document: as a replacement of the scalar's text, keeping every
 * other byte. Both readers (the line scanner and the full parser) describe a scalar the same
 * way (a ScalarSite), so a value comes out the same whichever read the document.
 *
 * The rule for strings: a value is written plain only when it is a word that every YAML reader
 * reads as that same string: it starts with an ASCII letter, holds only printable characters
 * and no `: `, ` #`, tab or trailing `:`/space, and is none of the words that YAML 1.1 reads as
 * booleans or null (`yes`, `On`, `n`, `NULL`, `~` …: YAML 1.2's core words are among them), or
 * that the `yaml` package's YAML 1.1 schema reads as a number (`e5`). Readers decide what a
 * plain scalar is by its first character; for a letter, only those words are special in YAML
 * 1.2 core, YAML 1.1 and Kubernetes' reader (go-yaml), so the rule is exact for that class, and
 * the test suite holds it to all three readers (test/output/). Everything else
 * (numbers, dates, `0xDEADBEEF`, `1.2.3`, text with spaces and colons …) is quoted: single
 * quotes when the scalar was single-quoted and the value is printable on one line, else double
 * quotes with JSON's escapes plus YAML's for C1 controls and line separators. Multi-line
 * values go into a literal block when the scalar was a block scalar and the text fits one,
 * else into one double-quoted line.
 */
import { VaultfillError } from '../errors.js';

export type ScalarStyle = 'plain' | 'single' | 'double' | 'literal' | 'folded';

/** A scalar's place and form in a document's text. */
export interface ScalarSite {
  /** `[start, end)`: the scalar's text; for a block scalar, from its header to the end of its last content line. */
  readonly start: number;
  readonly end: number;
  readonly style: ScalarStyle;
  /** Inside a flow collection (`[…]`, `{…}`). */
  readonly inFlow: boolean;
  /** A block scalar's content column (its new lines keep it, so no line after the block moves into it). */
  readonly indent: number | undefined;
  /** A block scalar's line break, kept for the lines written. */
  readonly eol: string;
}

/** A replacement of `[start, end)` in a document's text. */
export interface TextEdit {
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

// YAML's printable set (c-printable) without C1 controls, line and paragraph separators, the
// byte-order mark and tab: YAML 1.1 readers (Kubernetes') treat NEL, U+2028 and U+2029 as line breaks.
const UNPRINTABLE = /[^\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\ud800-\udfff]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
// The letter-first plain scalars YAML 1.1 resolves as booleans or null (the spec's bool and
// null type regular expressions; YAML 1.2 core's true/false/null are among them), and what the
// `yaml` package's YAML 1.1 schema reads as a float with no digits before the exponent (`e5`,
// `E-3`: NaN to it, strings to the spec and to Kubernetes).
const YAML11_WORD = /^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF|null|Null|NULL|[eE][-+]?[0-9]+)$/;
const FLOW_PLAIN = /^[A-Za-z][A-Za-z0-9_./+=@%~-]*$/;

/** Whether `value` may be written as a plain scalar (see the header). */
export function isPlainSafe(value: string, inFlow: boolean): boolean {
  if (inFlow) return FLOW_PLAIN.test(value) && !YAML11_WORD.test(value);
  const first = value.charCodeAt(0);
  if (!((first >= 65 && first <= 90) || (first >= 97 && first <= 122))) return false;
  if (UNPRINTABLE.test(value) || LONE_SURROGATE.test(value) || YAML11_WORD.test(value)) return false;
  return !(value.includes(': ') || value.includes(' #') || value.endsWith(':') || value.endsWith(' '));
}

/**
 * Refuses a value Kubernetes cannot hold: text with a lone UTF-16 surrogate (Go strings are
 * UTF-8), a non-finite number written as YAML or inside a collection. `asText`: the value is
 * written as its text (stringified into a longer string, a ConfigMap, base64).
 */
export function assertRepresentable(value: unknown, asText = false): void {
  // As text, a number is its digits ("Infinity" is a fine string); as YAML, or inside a
  // collection (which is written as JSON), a non-finite one has no form Kubernetes reads.
  if (typeof value === 'number' && !Number.isFinite(value) && !asText) {
    throw new VaultfillError('VALUE_UNREPRESENTABLE', 'the value is an infinite or NaN number, which Kubernetes cannot store (JSON has no such numbers); quote it in the secret or drop the parse modifier');
  }
  if (typeof value === 'string') {
    if (LONE_SURROGATE.test(value)) {
      throw new VaultfillError('VALUE_UNREPRESENTABLE', 'the value holds a lone UTF-16 surrogate (not valid Unicode), which Kubernetes cannot store; fix the value in the secret store');
    }
  } else if (Array.isArray(value)) {
    value.forEach((item) => assertRepresentable(item));
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      assertRepresentable(k);
      assertRepresentable(v);
    }
  }
}

/**
 * A double-quoted scalar on one line: JSON's escapes, which YAML shares, plus YAML's for what
 * JSON leaves raw. Characters outside the BMP stay raw, never `\ud83d\ude00`: Kubernetes' reader
 * refuses surrogate escapes, even paired ones (test/oracle/).
 */
function quoteDouble(value: string): string {
  return JSON.stringify(value).replace(/[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

// What a literal block cannot hold: non-printable characters and line separators, a first
// content line starting with white space (it would need an indentation indicator), lines of
// only white space, and more than one final line break (keep chomping would swallow the blank
// lines after the block).
const NOT_LITERAL = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]|^\n*[ \t]|(?:^|\n)[ \t]+(?:\n|$)|\n\n$/;

/** The text of a string value written where `site` stood. */
export function renderString(value: string, site: ScalarSite): string {
  if (site.indent !== undefined && value.trim() && !NOT_LITERAL.test(value)) {
    const clip = value.endsWith('\n');
    const pad = ' '.repeat(site.indent);
    const lines = (clip ? value.slice(0, -1) : value).split('\n');
    return `|${clip ? '' : '-'}${site.eol}${lines.map((line) => (line ? pad + line : '')).join(site.eol)}`;
  }
  if (site.style === 'single' && !UNPRINTABLE.test(value)) return `'${value.replace(/'/g, "''")}'`;
  if (site.style === 'plain' && isPlainSafe(value, site.inFlow)) return value;
  return quoteDouble(value);
}

/**
 * A typed value (number, boolean, null, list, map; assertRepresentable has passed it) as flow
 * YAML that every reader reads the same: JSON with YAML-friendly separators (`{"a": 1, "b": [2]}`), and floats with a `.` so
 * YAML 1.1 reads `1.0e+21` as a number, as YAML 1.2 and Kubernetes read `1e+21`.
 */
export function renderTyped(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(renderTyped).join(', ')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    return `{${entries.map(([k, v]) => `${quoteDouble(k)}: ${renderTyped(v)}`).join(', ')}}`;
  }
  if (typeof value === 'number') {
    const text = String(value);
    return /e/.test(text) && !text.includes('.') ? text.replace('e', '.0e') : text;
  }
  if (typeof value === 'string') return quoteDouble(value);
  if (typeof value === 'boolean') return String(value);
  return 'null';
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

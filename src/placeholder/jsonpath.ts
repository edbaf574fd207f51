/**
 * Kubernetes JSONPath templates, as AVP's `jsonPath` modifier runs them through client-go's
 * `util/jsonpath` (AllowMissingKeys(false)). Behaviour was checked against client-go v0.37.
 * An empty slice result skips that one input, as on kubernetes master (empty_array_test.go);
 * released client-go stops there and drops the inputs after it (`{[*][*]}` on [[],[1]] is "").
 * Other deliberate differences, all where client-go fails rather than producing output:
 * - an empty `{range}` produces nothing (client-go fails with "<field> is not found" when
 *   the body reads a field, because it runs the body once against nothing);
 * - filters compare numbers by value (client-go rejects `@.n < 10` on JSON numbers, which are
 *   float64, against the int literal 10 with "incompatible types for comparison"), and an
 *   element missing a filtered key does not match (client-go fails with "is not found");
 * - `["a.b"]` is the literal key `a.b` and a bare `[name]` is the key `name` (client-go
 *   rejects both). `['a.b']` stays client-go's path `.a.b`, which is what it is rewritten to;
 * - brackets and quotes are scanned with their nesting and escapes (client-go stops at the
 *   first `]`, splits unions at every comma and ends `'a\\'` late); spaces inside brackets,
 *   tabs, and filters inside unions (`[?(@.x),0]`) are accepted;
 * - unknown identifiers and a stray `{end}` fail at compile time, not at evaluation; so does
 *   a `range` that does not open its block (client-go quietly misbehaves on that one);
 * - `*` and `..` visit object keys in insertion order (Go visits map keys in random order).
 * Numbers print as Go prints a float64, which is what AVP holds after decoding JSON or YAML:
 * 80 → `80`, 1.5 → `1.5`, but 1000000 → `1e+06` (inside a printed map or array: `1000000`).
 * A null prints as `null`, as client-go does since v0.29 (kubernetes PR #119883; older
 * releases printed `<nil>`). Error messages name the template and type names, never values.
 */

export class JsonPathError extends Error {
  readonly code = 'JSONPATH' as const;
  /** 1-based column in the template, when known. */
  readonly column: number | undefined;
  constructor(message: string, column?: number) {
    super(message);
    this.name = 'JsonPathError';
    this.column = column;
  }
}

export interface CompiledJsonPath {
  readonly template: string;
  /** Runs the template; throws JsonPathError when a key is missing or an index is out of range. */
  evaluate(data: unknown): string;
}

type Op = '==' | '!=' | '<' | '<=' | '>' | '>=';
type Step =
  | { kind: 'field'; name: string; col: number }
  | { kind: 'wildcard' | 'recursive' }
  | { kind: 'slice'; start?: number; end?: number; derived: boolean; step: number; col: number }
  | { kind: 'union'; branches: Step[][] }
  | { kind: 'filter'; left: Step[]; op: Op | 'exists'; right: Step[]; col: number }
  | { kind: 'text'; value: string }
  | { kind: 'literal'; value: bigint | number | boolean }
  | { kind: 'keyword'; word: 'range' | 'end'; col: number };
type Block =
  | { kind: 'text'; text: string }
  | { kind: 'expr' | 'range'; steps: Step[]; src: string; col: number; body: Block[] };

const TERMINATORS = ' \t\r\n.,[]$@{}';
const OPS: readonly string[] = ['==', '!=', '<', '<=', '>', '>='];
const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';
const isAlnum = (c: string | undefined): boolean => c !== undefined && /^[\p{L}\p{Nd}_]/u.test(c);
const isSpace = (c: string | undefined): boolean => c === ' ' || c === '\t';

class Parser {
  pos = 0;
  /** `base` is the template index of src[0], so columns stay right in re-parsed pieces. */
  constructor(readonly src: string, readonly base: number) {}

  fail(message: string, at = this.pos): never {
    const column = this.base + at + 1;
    throw new JsonPathError(`jsonpath syntax error at column ${column}: ${message}`, column);
  }

  /** A block's steps up to and including `}`, or a piece's steps up to `end`. */
  action(block: boolean, end = this.src.length): Step[] {
    const s = this.src;
    const steps: Step[] = [];
    for (;;) {
      if (this.pos >= end) return block ? this.fail('unclosed action') : steps;
      const c = s[this.pos];
      if (block && c === '}') { this.pos++; return steps; }
      if (s.startsWith('..', this.pos)) {
        if (steps.at(-1)?.kind === 'recursive') this.fail('invalid multiple recursive descent');
        steps.push({ kind: 'recursive' });
        this.pos += 2;
        if (isAlnum(s[this.pos])) steps.push(this.field(end));
      } else if (isSpace(c) || c === '@' || c === '$') this.pos++; // `$` and `@` are the current value
      else if (c === '\n' || c === '\r') this.fail('unclosed action');
      else if (c === '[') steps.push(...this.bracket(end));
      else if (c === '"' || c === "'") steps.push({ kind: 'text', value: this.quoted(end) });
      else if (c === '.') { this.pos++; steps.push(this.field(end)); }
      else if (c === '+' || c === '-' || isDigit(c)) steps.push(this.number(end));
      else if (isAlnum(c)) steps.push(this.identifier(block, end));
      else this.fail(`unrecognized character ${JSON.stringify(c)}`);
    }
  }

  piece(from: number, to: number): Step[] {
    const saved = this.pos;
    this.pos = from;
    const steps = this.action(false, to);
    this.pos = saved;
    return steps;
  }

  field(end: number): Step {
    const start = this.pos;
    while (this.pos < end && !TERMINATORS.includes(this.src[this.pos] ?? '')) this.pos += this.src[this.pos] === '\\' ? 2 : 1;
    this.pos = Math.min(this.pos, end);
    const raw = this.src.slice(start, this.pos);
    // client-go drops every backslash, so `\.` keeps a dot inside a key.
    return raw === '*' ? { kind: 'wildcard' } : { kind: 'field', name: raw.replaceAll('\\', ''), col: this.base + start + 1 };
  }

  number(end: number): Step {
    const start = this.pos;
    if (this.src[this.pos] === '+' || this.src[this.pos] === '-') this.pos++;
    while (this.pos < end && (isDigit(this.src[this.pos]) || this.src[this.pos] === '.')) this.pos++;
    const text = this.src.slice(start, this.pos);
    if (/^[+-]?\d+$/.test(text)) {
      const n = BigInt(text); // Go int: prints in full, unlike a float64
      if (n >= -(2n ** 63n) && n < 2n ** 63n) return { kind: 'literal', value: n };
    }
    if (/^[+-]?(\d+\.?\d*|\.\d+)$/.test(text)) return { kind: 'literal', value: Number(text) };
    return this.fail(`cannot parse number ${text}`, start);
  }

  identifier(block: boolean, end: number): Step {
    const start = this.pos;
    while (this.pos < end && !TERMINATORS.includes(this.src[this.pos] ?? '')) this.pos++;
    const word = this.src.slice(start, this.pos);
    if (word === 'true' || word === 'false') return { kind: 'literal', value: word === 'true' };
    if (block && (word === 'range' || word === 'end')) return { kind: 'keyword', word, col: this.base + start + 1 };
    return this.fail(`unrecognized identifier ${word}`, start);
  }

  /** Index just past the quote closing the one at `at`. */
  skipQuoted(at: number, end: number): number {
    const q = this.src[at];
    for (let i = at + 1; i < end && this.src[i] !== '\n'; i++) {
      if (this.src[i] === '\\') i++;
      else if (this.src[i] === q) return i + 1;
    }
    return this.fail('unterminated quoted string', at);
  }

  quoted(end: number): string {
    const start = this.pos;
    this.pos = this.skipQuoted(start, end);
    return this.unquote(start, this.pos);
  }

  /** Go's strconv.UnquoteChar rules, with `'...'` allowed as a string too. */
  unquote(from: number, to: number): string {
    const q = this.src[from];
    const body = this.src.slice(from + 1, to - 1);
    const bytes: number[] = [];
    const encoder = new TextEncoder();
    const bad = (): never => this.fail(`invalid escape in quoted string ${this.src.slice(from, to)}`, from);
    const code = (i: number, len: number, radix: number): number => {
      const digits = body.slice(i, i + len);
      if (digits.length !== len || !(radix === 8 ? /^[0-7]+$/ : /^[0-9a-fA-F]+$/).test(digits)) bad();
      return parseInt(digits, radix);
    };
    for (let i = 0; i < body.length;) {
      if (body[i] !== '\\') {
        const ch = String.fromCodePoint(body.codePointAt(i) ?? 0);
        bytes.push(...encoder.encode(ch));
        i += ch.length;
        continue;
      }
      const e = body[i + 1] ?? '';
      const simple = ({ a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, '\\': 92 } as Record<string, number>)[e];
      if (simple !== undefined || ((e === '"' || e === "'") && e === q)) { bytes.push(simple ?? e.charCodeAt(0)); i += 2; }
      else if (e === 'x') { bytes.push(code(i + 2, 2, 16)); i += 4; }
      else if (e >= '0' && e <= '7') { const b = code(i + 1, 3, 8); if (b > 255) bad(); bytes.push(b); i += 4; }
      else if (e === 'u' || e === 'U') {
        const len = e === 'u' ? 4 : 8;
        const cp = code(i + 2, len, 16);
        if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) bad();
        bytes.push(...encoder.encode(String.fromCodePoint(cp)));
        i += 2 + len;
      } else bad();
    }
    return new TextDecoder().decode(Uint8Array.from(bytes));
  }

  /** `[...]` at pos: scanned to its matching `]`, skipping quoted text. */
  bracket(end: number): Step[] {
    const open = this.pos;
    let depth = 0;
    let i = open;
    for (;; i++) {
      if (i >= end || this.src[i] === '\n') this.fail('unterminated array', open);
      const c = this.src[i];
      if (c === '"' || c === "'") i = this.skipQuoted(i, end) - 1;
      else if (c === '[') depth++;
      else if (c === ']' && --depth === 0) break;
    }
    this.pos = i + 1;
    return this.subscript(open + 1, i);
  }

  subscript(from: number, to: number): Step[] {
    const s = this.src;
    while (from < to && isSpace(s[from])) from++;
    while (to > from && isSpace(s[to - 1])) to--;
    const text = s.slice(from, to);
    const col = this.base + from + 1;
    const parts: number[] = [from - 1];
    for (let i = from, depth = 0; i < to; i++) {
      if (s[i] === '"' || s[i] === "'") i = this.skipQuoted(i, to) - 1;
      else if ('[('.includes(s[i] ?? '')) depth++;
      else if ('])'.includes(s[i] ?? '')) depth--;
      else if (s[i] === ',' && depth === 0) parts.push(i);
    }
    if (parts.length > 1) {
      parts.push(to);
      return [{ kind: 'union', branches: parts.slice(1).map((p, k) => this.subscript((parts[k] ?? 0) + 1, p)) }];
    }
    if (text.startsWith('?')) return [this.filter(from, to)];
    if (text === '*') return [{ kind: 'slice', derived: false, step: 1, col }];
    if (/^'[^']*'$/.test(text)) return new Parser(`.${text.slice(1, -1)}`, this.base + from).action(false);
    if (/^"(?:[^"\\]|\\.)*"$/.test(text)) return [{ kind: 'field', name: this.unquote(from, to), col }];
    if (/^[A-Za-z_][\w-]*$/.test(text)) return [{ kind: 'field', name: text, col }];
    const m = /^(-?\d*)(:-?\d*)?(:-?\d*)?$/.exec(text);
    if (!m) return this.fail(`invalid array index ${text}`, from);
    const int = (t: string): number => (Number.isSafeInteger(Number(t)) && t !== '-' ? Number(t) : this.fail(`array index ${t} is not a number`, from));
    const start = m[1] ? int(m[1]) : undefined;
    const endText = m[2]?.slice(1);
    const step = m[3] && m[3] !== ':' ? int(m[3].slice(1)) : 1;
    if (step <= 0) this.fail('step must be > 0', from);
    if (endText === undefined) return [{ kind: 'slice', start, end: (start ?? 0) + 1, derived: true, step, col }];
    return [{ kind: 'slice', start, end: endText === '' ? undefined : int(endText), derived: false, step, col }];
  }

  filter(from: number, to: number): Step {
    const col = this.base + from + 1;
    if (this.src[from + 1] !== '(' || this.src[to - 1] !== ')') this.fail('invalid filter, expected [?(...)]', from);
    const a = from + 2;
    const m = /^([^!<>=]+)([!<>=]+)(.+?)$/s.exec(this.src.slice(a, to - 1));
    if (!m?.[1] || !m[2] || !m[3]) return { kind: 'filter', left: this.piece(a, to - 1), op: 'exists', right: [], col };
    const opAt = a + m[1].length;
    if (!OPS.includes(m[2])) this.fail(`unrecognized filter operator ${m[2]}`, opAt);
    return { kind: 'filter', left: this.piece(a, opAt), op: m[2] as Op, right: this.piece(opAt + m[2].length, to - 1), col };
  }
}

export function compileJsonPath(template: string): CompiledJsonPath {
  const p = new Parser(template, 0);
  const root: Block[] = [];
  const open: Block[][] = [root];
  for (let i = 0; i < template.length;) {
    const brace = template.indexOf('{', i);
    const textEnd = brace < 0 ? template.length : brace;
    const into = open.at(-1) ?? root;
    if (textEnd > i) into.push({ kind: 'text', text: template.slice(i, textEnd) });
    if (brace < 0) break;
    p.pos = brace + 1;
    const steps = p.action(true);
    const keywords = steps.filter((s) => s.kind === 'keyword');
    const block: Block = { kind: 'expr', steps, src: template.slice(brace, p.pos), col: brace + 1, body: [] };
    i = p.pos;
    const first = keywords[0];
    if (first === undefined) into.push(block);
    else if (keywords.length === 1 && first === steps[0] && first.word === 'range') {
      into.push({ ...block, kind: 'range', steps: steps.slice(1) });
      open.push(block.body);
    } else if (steps.length === 1 && first.word === 'end') {
      if (open.length === 1) p.fail('not in range, nothing to end', brace);
      open.pop();
    } else p.fail(`unexpected ${first.word}`, first.col - 1);
  }
  // client-go runs the blocks after a range that lacks {end} both per element and once more after it.
  for (let k = open.length - 1; k > 0; k--) open[k - 1]?.push(...(open[k] ?? []));
  return { template, evaluate: (data) => run(root, data, []).join('') };
}

export function jsonPath(template: string, data: unknown): string {
  return compileJsonPath(template).evaluate(data);
}

function run(blocks: Block[], data: unknown, out: string[]): string[] {
  for (const b of blocks) {
    if (b.kind === 'text') { out.push(b.text); continue; }
    let values: unknown[];
    try {
      values = evalSteps([data], b.steps, false);
    } catch (e) {
      if (!(e instanceof JsonPathError)) throw e;
      throw new JsonPathError(`jsonpath ${b.src}: ${e.message} (column ${e.column ?? b.col})`, e.column ?? b.col);
    }
    if (b.kind === 'expr') out.push(values.map(print).join(' '));
    else for (const v of values) run(b.body, v, out);
  }
  return out;
}

type JsonRecord = Record<string, unknown>;
const isRecord = (v: unknown): v is JsonRecord => typeof v === 'object' && v !== null && !Array.isArray(v);
const goType = (v: unknown): string =>
  v === null || v === undefined ? 'null' : isRecord(v) ? 'map[string]interface {}' : Array.isArray(v) ? '[]interface {}'
  : typeof v === 'number' ? 'float64' : typeof v === 'bigint' ? 'int' : typeof v === 'boolean' ? 'bool' : 'string';

function children(v: unknown): unknown[] {
  if (Array.isArray(v)) return v;
  if (isRecord(v)) return Object.values(v);
  return typeof v === 'string' ? [...new TextEncoder().encode(v)] : []; // Go indexes strings by byte
}

/** `lenient` is for filter operands: a missing key there means "no match", not an error. */
function evalSteps(input: unknown[], steps: Step[], lenient: boolean): unknown[] {
  let cur = input;
  for (const st of steps) cur = evalStep(cur, st, lenient);
  return cur;
}

function evalStep(input: unknown[], st: Step, lenient: boolean): unknown[] {
  switch (st.kind) {
    case 'text': return [st.value];
    case 'literal': return input.map(() => st.value);
    case 'keyword': return input;
    case 'wildcard': return input.flatMap(children);
    case 'union': return st.branches.flatMap((b) => evalSteps(input, b, lenient));
    case 'slice': return input.flatMap((v) => slice(v, st));
    case 'filter': return input.flatMap((v) => filter(v, st));
    case 'recursive': {
      const out: unknown[] = [];
      const visit = (v: unknown): void => {
        const ch = children(v);
        if (ch.length > 0) { out.push(v); ch.forEach(visit); }
      };
      input.forEach(visit);
      return out;
    }
    case 'field': {
      const out = input.filter(isRecord).filter((v) => Object.hasOwn(v, st.name)).map((v) => v[st.name]);
      if (out.length === 0 && input.length > 0 && !lenient) throw new JsonPathError(`${st.name} is not found`, st.col);
      return out;
    }
  }
}

function slice(v: unknown, st: Extract<Step, { kind: 'slice' }>): unknown[] {
  if (v === null || v === undefined) return [];
  if (!Array.isArray(v)) throw new JsonPathError(`${goType(v)} is not array or slice`, st.col);
  const len = v.length;
  let start = st.start ?? 0;
  if (start < 0) start += len;
  let end = st.end ?? len;
  if (end < 0 || (end === 0 && st.derived)) end += len;
  if (end === start) return [];
  const oob = (i: number): JsonPathError => new JsonPathError(`array index out of bounds: index ${i}, length ${len}`, st.col);
  if (start >= len || start < 0) throw oob(start);
  if (end > len || end < 0) throw oob(end - 1);
  if (start > end) throw new JsonPathError(`starting index ${start} is greater than ending index ${end}`, st.col);
  const out: unknown[] = [];
  for (let i = start; i < end; i += st.step) out.push(v[i]);
  return out;
}

function filter(v: unknown, st: Extract<Step, { kind: 'filter' }>): unknown[] {
  if (!Array.isArray(v)) throw new JsonPathError(`${goType(v)} is not array or slice and cannot be filtered`, st.col);
  const operand = (el: unknown, steps: Step[]): unknown[] => {
    const r = evalSteps([el], steps, true);
    if (r.length > 1) throw new JsonPathError('can only compare one element at a time', st.col);
    return r;
  };
  return v.filter((el) => {
    if (st.op === 'exists') {
      try { return evalSteps([el], st.left, true).length > 0; } catch (e) { if (e instanceof JsonPathError) return false; throw e; }
    }
    const [l] = operand(el, st.left);
    const [r] = l === undefined ? [] : operand(el, st.right);
    return l !== undefined && r !== undefined && compare(st.op, l, r, st.col);
  });
}

function compare(op: Op, l: unknown, r: unknown, col: number): boolean {
  const kind = (x: unknown): string => (typeof x === 'bigint' ? 'number' : typeof x);
  const [k1, k2] = [kind(l), kind(r)];
  const comparable = (k: string): boolean => k === 'number' || k === 'string' || k === 'boolean';
  if (!comparable(k1) || !comparable(k2)) throw new JsonPathError('invalid type for comparison', col);
  if (k1 !== k2) throw new JsonPathError('incompatible types for comparison', col);
  if (k1 === 'boolean') {
    if (op !== '==' && op !== '!=') throw new JsonPathError('invalid type for comparison', col);
    return (l === r) === (op === '==');
  }
  const c = k1 === 'string' ? byteCompare(String(l), String(r)) : Math.sign(Number(l) - Number(r));
  return { '==': c === 0, '!=': c !== 0, '<': c < 0, '<=': c <= 0, '>': c > 0, '>=': c >= 0 }[op];
}

/** Go compares strings by UTF-8 bytes; JS by UTF-16 units. */
const byteCompare = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** fmt.Print of a scalar; maps and slices as json.Marshal. */
function print(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return goFloat(v);
  if (typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  return goJson(v);
}

/** Go's %v for float64: shortest digits, exponent form when the exponent is < -4 or >= 6 (1e6 prints as 1e+06). */
function goFloat(n: number): string {
  if (!Number.isFinite(n)) return Number.isNaN(n) ? 'NaN' : n > 0 ? '+Inf' : '-Inf';
  if (n === 0) return Object.is(n, -0) ? '-0' : '0';
  const [mantissa = '', e = '0'] = n.toExponential().split('e');
  const exp = Number(e);
  if (exp >= -4 && exp < 6) return String(n);
  return `${mantissa}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
}

function goJson(v: unknown): string {
  if (typeof v === 'string') return goQuote(v);
  // Go's encoding/json switches to exponent form at the same thresholds as JSON.stringify.
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : Number.isFinite(v) ? JSON.stringify(v) : 'null';
  if (typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (Array.isArray(v)) return `[${v.map(goJson).join(',')}]`;
  if (!isRecord(v)) return 'null';
  const keys = Object.keys(v).sort(byteCompare);
  return `{${keys.map((k) => `${goQuote(k)}:${goJson(v[k])}`).join(',')}}`;
}

/** json.Marshal's string escaping, including its HTML-safe \u003c \u003e \u0026. */
function goQuote(s: string): string {
  const short: Record<string, string> = { '"': '\\"', '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f' };
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    if (short[ch] !== undefined) out += short[ch];
    else if (cp < 0x20 || ch === '<' || ch === '>' || ch === '&' || cp === 0x2028 || cp === 0x2029) out += `\\u${cp.toString(16).padStart(4, '0')}`;
    else if (cp >= 0xd800 && cp <= 0xdfff) out += '\ufffd';
    else out += ch;
  }
  return `${out}"`;
}

/**
 * Splits sources into YAML documents, decides which need work, parses those (keeping the CST
 * so untouched bytes are written back exactly) and serializes them again.
 */
import type { CST, Document, LineCounter } from 'yaml';
import { ANNOTATION } from '../constants.js';
import { VaultfillError } from '../errors.js';
import type { Source } from '../input/read.js';
import { yaml } from '../yaml.js';

export interface Chunk {
  readonly source: Source;
  /** 1-based index of the document within its source. */
  readonly index: number;
  readonly text: string;
  /** 1-based line of the source on which `text` starts (counted when first read). */
  readonly line: number;
  /** False when the text cannot hold a placeholder: it is written back untouched. */
  readonly candidate: boolean;
  /** Where `framed(text)` stands verbatim in the source's text, when it does ([start, end)). */
  readonly raw: readonly [number, number] | undefined;
}

export interface ParsedChunk {
  readonly chunk: Chunk;
  readonly tokens: readonly CST.Token[];
  readonly documents: readonly Document.Parsed[];
  readonly lines: LineCounter;
}

// A line that starts (`---`) or ends (`...`) a document. YAML forbids both at column 0 inside
// any scalar, so splitting on them is exact without parsing.
const MARKER_LINE = /^(?:---|\.\.\.)(?=[ \t\r\n]|$)[^\n]*\n?/gm;
const BARE_MARKER = /^(?:---|\.\.\.)[ \t]*(?:#.*)?\r?\n?$/;
const CONTENT_LINE = /^[ \t]*[^\s#]/m;

/**
 * The offsets in `text` where something that could need work starts, in order: an inline
 * placeholder, an annotation path (generic placeholders), or a Secret (base64-encoded ones).
 * indexOf over the whole text is about twice as fast as a regular expression per document
 * (10 MB: 6 ms, not 11).
 * The annotation is found by its `/path`: V8 finds a needle whose first character is rare much
 * faster (B2: 1.6 ms, against 4.3 for the whole name, which starts with an `a`).
 */
function workOffsets(text: string): number[] {
  const hits: number[] = [];
  for (let i = text.indexOf('<path:'); i !== -1; i = text.indexOf('<path:', i + 1)) hits.push(i);
  const prefix = ANNOTATION.path.length - '/path'.length;
  for (let i = text.indexOf('/path', prefix); i !== -1; i = text.indexOf('/path', i + 1)) if (text.startsWith(ANNOTATION.path, i - prefix)) hits.push(i - prefix);
  for (let i = text.indexOf('Secret'); i !== -1; i = text.indexOf('Secret', i + 1)) if (endsSecretKind(text, i)) hits.push(i);
  return hits.sort((a, b) => a - b);
}

const WORD = /\w/;

/**
 * Whether the `Secret` at `i` ends a `kind: Secret` (YAML or JSON: /\bkind["']?[ \t]*:[ \t]*["']?Secret\b/),
 * read backwards from it, so a long line is never scanned again for each `Secret` in it.
 */
function endsSecretKind(text: string, i: number): boolean {
  if (WORD.test(text[i + 6] ?? '')) return false;
  let j = i - 1;
  if (text[j] === '"' || text[j] === "'") j--;
  while (text[j] === ' ' || text[j] === '\t') j--;
  if (text[j] !== ':') return false;
  j--;
  while (text[j] === ' ' || text[j] === '\t') j--;
  if (text[j] === '"' || text[j] === "'") j--;
  return j >= 3 && text.startsWith('kind', j - 3) && !WORD.test(text[j - 4] ?? '');
}

/**
 * A document of a source. Its line is counted when something reads it: only error locations
 * do, so a run that succeeds never counts the lines of its input (10 MB: ~7 ms).
 */
class SourceChunk implements Chunk {
  #line: number | undefined;

  constructor(
    readonly source: Source,
    readonly index: number,
    readonly text: string,
    readonly candidate: boolean,
    readonly raw: readonly [number, number] | undefined,
    private readonly offset: number,
    private readonly lines: LineIndex,
  ) {}

  get line(): number {
    this.#line ??= this.lines.lineAt(this.offset);
    return this.#line;
  }
}

/** Line numbers of offsets in a text, counted on from the last one asked for (or from the start). */
class LineIndex {
  private line = 1;
  private counted = 0;

  constructor(private readonly text: string) {}

  lineAt(offset: number): number {
    if (offset < this.counted) {
      this.line = 1;
      this.counted = 0;
    }
    for (let i = this.text.indexOf('\n', this.counted); i !== -1 && i < offset; i = this.text.indexOf('\n', i + 1)) this.line++;
    this.counted = offset;
    return this.line;
  }
}

/** Documents of a source, as substrings of its text (no copies), without empty ones. */
export function splitDocuments(source: Source): Chunk[] {
  return [...documentsOf(source)];
}

/**
 * The same, one at a time, so a caller can start on the first documents (and their Vault
 * reads) while the rest of a large input is still being split.
 */
export function* documentsOf(source: Source): Generator<Chunk, void, undefined> {
  const { text } = source;
  const work = workOffsets(text);
  const lines = new LineIndex(text);
  let next = 0;
  let index = 0;
  const document = (from: number, to: number): Chunk | undefined => {
    if (to <= from) return undefined;
    const body = text.slice(from, to);
    if (!CONTENT_LINE.test(body)) return undefined;
    const whole = body.endsWith('\n');
    while (next < work.length && (work[next] as number) < from) next++;
    const candidate = next < work.length && (work[next] as number) < to;
    const raw: [number, number] | undefined = !whole ? undefined : body.startsWith('---') ? [from, to] : from >= 4 && text.startsWith('---\n', from - 4) ? [from - 4, to] : undefined;
    return new SourceChunk(source, ++index, whole ? body : `${body}\n`, candidate, raw, from, lines);
  };
  let start = 0;
  // Its own lastIndex: the caller may run other code between two documents.
  const markers = new RegExp(MARKER_LINE);
  for (let m = markers.exec(text); m; m = markers.exec(text)) {
    const found = document(start, m.index);
    if (found) yield found;
    // `--- !tag` or `--- value` starts a document whose first line is the marker line itself.
    start = m[0].startsWith('---') && !BARE_MARKER.test(m[0]) ? m.index : m.index + m[0].length;
    if (m[0] === '') markers.lastIndex++;
  }
  const last = document(start, text.length);
  if (last) yield last;
}

export function parseChunk(chunk: Chunk): ParsedChunk | VaultfillError {
  const { Composer, LineCounter, Parser } = yaml();
  const lines = new LineCounter();
  const parser = new Parser(lines.addNewLine);
  const composer = new Composer({ keepSourceTokens: true, uniqueKeys: true });
  const tokens: CST.Token[] = [];
  const documents: Document.Parsed[] = [];
  for (const token of parser.parse(chunk.text)) {
    tokens.push(token);
    documents.push(...composer.next(token));
  }
  documents.push(...composer.end());
  for (const doc of documents) {
    const error = doc.errors[0];
    if (error) {
      const pos = lines.linePos(error.pos[0]);
      const first = error.message.split('\n')[0]?.replace(/ at line \d+, column \d+:?$/, '') ?? 'invalid YAML';
      const message = /call stack/i.test(first) ? 'the document is nested too deeply to parse' : first;
      return new VaultfillError('YAML_PARSE', message, {
        location: { source: chunk.source.name, line: chunk.line + pos.line - 1, column: pos.col, document: chunk.index },
      });
    }
  }
  return { chunk, tokens, documents, lines };
}

export function serialize(parsed: ParsedChunk): string {
  let out = '';
  const { CST } = yaml();
  for (const token of parsed.tokens) out += CST.stringify(token);
  return out.endsWith('\n') ? out : `${out}\n`;
}

/** A document as it is written into the output stream. */
export function framed(text: string): string {
  return text.startsWith('---') ? text : `---\n${text}`;
}

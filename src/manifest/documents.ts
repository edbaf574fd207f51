/**
 * Splits sources into YAML documents and decides which need work. A source is cut into
 * pieces that cover its text exactly, one per document: everything before a document's
 * content since the previous document (comments, empty documents, directives, its `---` line
 * with any comment on it) is its lead, and text after the last document is the last one's
 * tail. So untouched documents are written back byte for byte, separators included, and an
 * edited one gets its own lead and tail around its new body.
 */
import type { Document, LineCounter } from 'yaml';
import { ANNOTATION } from '../constants.js';
import { VaultfillError } from '../errors.js';
import type { Source } from '../input/read.js';
import { yaml } from '../yaml.js';

export interface Chunk {
  readonly source: Source;
  /** 1-based index of the document within its source. */
  readonly index: number;
  /** The document's body as parsed, always ending with a line break. */
  readonly text: string;
  /** 1-based line of the source on which `text` starts (counted when first read). */
  readonly line: number;
  /** False when the text cannot hold a placeholder: it is written back untouched. */
  readonly candidate: boolean;
  /** The document's piece of its source, `[start, end)`, lead and tail included. */
  readonly span: readonly [number, number];
  /** Where `text` stands in the source, `[start, end)` (without a line break `text` added). */
  readonly body: readonly [number, number];
  /** Not a document: a source that holds none (comments, separators) as a piece of the output. */
  readonly filler: boolean;
}

export interface ParsedChunk {
  readonly chunk: Chunk;
  readonly documents: readonly Document.Parsed[];
  readonly lines: LineCounter;
}

// A line that starts (`---`) or ends (`...`) a document. YAML forbids both at column 0 inside
// any scalar, so cutting on them is exact without parsing.
const MARKER_LINE = /^(?:---|\.\.\.)(?=[ \t\r\n]|$)[^\n]*\n?/gm;
const BARE_MARKER = /^---[ \t]*(?:#.*)?\r?\n?$/;
const CONTENT_LINE = /^[ \t]*[^\s#]/m;
const DIRECTIVE_LINE = /^%/m;

/**
 * The offsets in `text` where something that could need work starts, in order: an inline
 * placeholder, an annotation path (generic placeholders), a Secret (base64-encoded ones), or
 * a `<` written as an escape (`\u003c`: JSON encoders such as Helm's toJson write it so).
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
  for (let i = text.indexOf('\\'); i !== -1; i = text.indexOf('\\', i + 1)) if (isEscapeOfInterest(text, i)) hits.push(i);
  return hits.sort((a, b) => a - b);
}

const ANNOTATION_PREFIX = ANNOTATION.path.slice(0, -'/path'.length);

/**
 * An escape at `i` that hides what the searches above look for: `<` in any of YAML's and
 * JSON's spellings, or the annotation's `/` written `\/` (JSON allows it).
 */
function isEscapeOfInterest(text: string, i: number): boolean {
  const c = text[i + 1];
  if (c === 'u') return text.startsWith('003', i + 2) && (text[i + 5] === 'c' || text[i + 5] === 'C');
  if (c === 'x') return text[i + 2] === '3' && (text[i + 3] === 'c' || text[i + 3] === 'C');
  if (c === 'U') return text.startsWith('0000003', i + 2) && (text[i + 9] === 'c' || text[i + 9] === 'C');
  return c === '/' && text.startsWith('path', i + 2) && text.startsWith(ANNOTATION_PREFIX, i - ANNOTATION_PREFIX.length);
}

/** Whether `text` holds `<` written as an escape (the line scanner leaves such documents to the parser). */
export function hasEscapedAngle(text: string): boolean {
  for (let i = text.indexOf('\\'); i !== -1; i = text.indexOf('\\', i + 1)) if (isEscapeOfInterest(text, i) && text[i + 1] !== '/') return true;
  return false;
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
    readonly span: readonly [number, number],
    readonly body: readonly [number, number],
    private readonly lines: LineIndex,
    readonly filler = false,
  ) {}

  get line(): number {
    this.#line ??= this.lines.lineAt(this.body[0]);
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

/** Documents of a source, as substrings of its text. */
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
  let nextWork = 0;
  let index = 0;
  const make = (start: number, end: number, bodyStart: number, bodyEnd: number): Chunk => {
    while (nextWork < work.length && (work[nextWork] as number) < bodyStart) nextWork++;
    const candidate = nextWork < work.length && (work[nextWork] as number) < bodyEnd;
    const body = text.slice(bodyStart, bodyEnd);
    return new SourceChunk(source, ++index, body.endsWith('\n') ? body : `${body}\n`, candidate, [start, end], [bodyStart, bodyEnd], lines);
  };
  // A document's piece runs from the end of the previous document's body to the end of its
  // own, which is the next marker line; it is yielded once the next document is found, since
  // the last one's piece runs on to the end of the text.
  let held: readonly [number, number] | undefined;
  let heldStart = 0;
  let directives: number | undefined;
  let from = 0;
  let afterEnd = true; // the stream's start is where directives may stand, as after `...`
  // Its own lastIndex: the caller may run other code between two documents.
  const markers = new RegExp(MARKER_LINE);
  for (let m: RegExpExecArray | null = markers.exec(text); ; m = markers.exec(text)) {
    const to = m ? m.index : text.length;
    const part = text.slice(from, to);
    if (afterEnd && DIRECTIVE_LINE.test(part) && !CONTENT_LINE.test(part.replace(/^%.*$/gm, ''))) {
      // Directives belong to the document after the next `---`; its body starts with them, so
      // the parser reads it as they say (and the line scanner leaves it alone).
      directives ??= from + (DIRECTIVE_LINE.exec(part) as RegExpExecArray).index;
    } else if (CONTENT_LINE.test(part)) {
      if (held) {
        yield make(heldStart, held[1], held[0], held[1]);
        heldStart = held[1];
      }
      held = [directives ?? from, to];
      directives = undefined;
    }
    if (!m) break;
    const line = m[0];
    afterEnd = line.startsWith('...');
    if (afterEnd) directives = undefined;
    // `--- !tag` or `--- value` starts a document whose first line is the marker line itself.
    from = line.startsWith('---') && !BARE_MARKER.test(line) ? m.index : m.index + line.length;
    if (line === '') markers.lastIndex++;
  }
  if (held) yield make(heldStart, text.length, held[0], held[1]);
  // A source with no document still comes out as it came in (with --allow-empty).
  else if (text) yield new SourceChunk(source, 0, '', false, [0, text.length], [text.length, text.length], lines, true);
}

/**
 * A candidate document read by the `yaml` package. Duplicate keys are read as Kubernetes reads
 * them (the last one wins), not refused: vaultfill does not judge the parts of a document it
 * does not write, and the line scanner passes over most of them (see line-scan.ts).
 */
export function parseChunk(chunk: Chunk): ParsedChunk | VaultfillError {
  const { LineCounter, parseAllDocuments } = yaml();
  const lines = new LineCounter();
  const parsed = parseAllDocuments(chunk.text, { lineCounter: lines, uniqueKeys: false, logLevel: 'error', prettyErrors: false });
  const documents = Array.isArray(parsed) ? parsed : [];
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
  return { chunk, documents, lines };
}

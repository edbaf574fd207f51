/**
 * Splits sources into YAML documents, decides which need work, parses those (keeping the CST
 * so untouched bytes are written back exactly) and serializes them again.
 */
import { Composer, CST, LineCounter, Parser, type Document } from 'yaml';
import { VaultfillError } from '../errors.js';
import type { Source } from '../input/read.js';

export interface Chunk {
  readonly source: Source;
  /** 1-based index of the document within its source. */
  readonly index: number;
  readonly text: string;
  /** 1-based line of the source on which `text` starts. */
  readonly line: number;
  /** False when the text cannot hold a placeholder: it is written back untouched. */
  readonly candidate: boolean;
}

export interface ParsedChunk {
  readonly chunk: Chunk;
  readonly tokens: readonly CST.Token[];
  readonly documents: readonly Document.Parsed[];
  readonly lines: LineCounter;
}

// A line that starts (`---`) or ends (`...`) a document. YAML forbids both at column 0 inside
// any scalar, so splitting on them is exact without parsing.
const MARKER = /^(?:---|\.\.\.)(?=[ \t\r\n]|$)/;
const BARE_MARKER = /^(?:---|\.\.\.)[ \t]*(?:#.*)?\r?$/;
const CONTENT_LINE = /^[ \t]*[^\s#]/m;
// Anything that could need work: an inline placeholder, an annotation path (generic
// placeholders), or a Secret (base64-encoded placeholders).
const CANDIDATE = /<path:|avp\.kubernetes\.io\/path|\bkind["']?[ \t]*:[ \t]*["']?Secret\b/;

export function splitDocuments(source: Source): Chunk[] {
  const chunks: Chunk[] = [];
  const lines = source.text.split('\n');
  let start = 0;
  let buffer: string[] = [];
  const flush = (): void => {
    const text = buffer.join('\n');
    if (CONTENT_LINE.test(text)) {
      const body = text.endsWith('\n') ? text : `${text}\n`;
      chunks.push({ source, index: chunks.length + 1, text: body, line: start + 1, candidate: CANDIDATE.test(body) });
    }
    buffer = [];
  };
  lines.forEach((line, i) => {
    if (MARKER.test(line)) {
      flush();
      start = i;
      if (BARE_MARKER.test(line)) {
        start = i + 1;
        return;
      }
      if (line.startsWith('...')) {
        start = i + 1;
        return;
      }
    }
    buffer.push(line);
  });
  // The final split element is the text after the last newline: not a line of its own.
  if (buffer.length && buffer[buffer.length - 1] === '') buffer.pop();
  flush();
  return chunks;
}

export function parseChunk(chunk: Chunk): ParsedChunk | VaultfillError {
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
      const message = error.message.split('\n')[0]?.replace(/ at line \d+, column \d+:?$/, '') ?? 'invalid YAML';
      return new VaultfillError('YAML_PARSE', message, {
        location: { source: chunk.source.name, line: chunk.line + pos.line - 1, column: pos.col, document: chunk.index },
      });
    }
  }
  return { chunk, tokens, documents, lines };
}

export function serialize(parsed: ParsedChunk): string {
  let out = '';
  for (const token of parsed.tokens) out += CST.stringify(token);
  return out.endsWith('\n') ? out : `${out}\n`;
}

/** Joins documents into one YAML stream. */
export function joinDocuments(texts: readonly string[]): string {
  return texts.map((t) => `---\n${t}`).join('');
}

/**
 * The pipeline: read → parse → collect → resolve → substitute → write. Documents with nothing
 * to do are written back byte for byte, never parsed. Output is produced only when every
 * problem in every document is absent.
 */
import type { Backend } from './backends/types.js';
import type { Config } from './config.js';
import { now } from './clock.js';
import { VaultfillError } from './errors.js';
import type { Source } from './input/read.js';
import type { Logger } from './log.js';
import { documentsOf, parseChunk, type Chunk } from './manifest/documents.js';
import { applyEdits, type TextEdit } from './manifest/edit.js';
import { scanDocument } from './manifest/line-scan.js';
import { collect, collectScanned, type CollectOptions, type Collected, type Slot } from './placeholder/collect.js';
import { substitute } from './placeholder/substitute.js';
import { withRecord } from './refresh/record.js';
import { createResolver } from './secrets/resolve.js';

/** How long the parse loop runs before it lets Vault's answers in (at most AVP_CONCURRENCY are in flight). */
const YIELD_MS = 1;

export interface GenerateOptions {
  readonly config: Pick<Config, 'kvVersion' | 'pathValidation' | 'concurrency'> & Pick<CollectOptions, 'fullParser'>;
  readonly backend: () => Promise<Backend>;
  readonly allowEmpty: boolean;
  readonly logger: Logger;
  /** AVP_RECORD: the record of the KV v2 versions read goes into the output (src/refresh/record.ts). */
  readonly record?: Config['record'];
}

export interface GenerateResult {
  /**
   * The finished manifests in order: edited documents, and runs of untouched ones as they
   * stand in the input. Empty when there are errors.
   */
  readonly output: readonly string[];
  readonly errors: readonly VaultfillError[];
  readonly stats: Stats;
}

export interface Stats {
  documents: number;
  parsed: number;
  placeholders: number;
  secrets: number;
  /** Splitting the input into documents is part of `parse` (see generate). */
  ms: Record<'parse' | 'resolve' | 'write', number>;
}

export async function generate(sources: readonly Source[], options: GenerateOptions): Promise<GenerateResult> {
  const { logger } = options;
  const stats: Stats = { documents: 0, parsed: 0, placeholders: 0, secrets: 0, ms: { parse: 0, resolve: 0, write: 0 } };
  let clock = now();
  const lap = (phase: keyof Stats['ms']): void => {
    const time = now();
    stats.ms[phase] = Math.round(time - clock);
    clock = time;
  };

  const errors: VaultfillError[] = [];
  // Reads start as soon as a document's references are known, and overlap the splitting and
  // parsing of the documents after it: the loop yields every millisecond so their responses
  // are taken in. Vault is busy from the first candidate document, not from the end of a split.
  const resolver = createResolver(options.backend, options.config.concurrency);
  const chunks: Chunk[] = [];
  const edited = new Map<number, Edited>();
  const slots: Slot[] = [];
  let yielded = now();
  for (const source of sources) {
    for (const chunk of documentsOf(source)) {
      const i = chunks.push(chunk) - 1;
      if (chunk.candidate) {
        const found = collectChunk(chunk, options.config);
        errors.push(...found.errors);
        if (found.edited) edited.set(i, found.edited);
        for (const slot of found.slots) {
          slots.push(slot);
          for (const ref of slot.references) resolver.request(ref.request);
        }
      }
      if (now() - yielded > YIELD_MS) {
        await new Promise((resolve) => setImmediate(resolve));
        yielded = now();
      }
    }
  }
  stats.documents = chunks.filter((c) => !c.filler).length;
  const empty = emptyInputError(sources, chunks, options.allowEmpty);
  if (empty) errors.push(empty);
  stats.parsed = chunks.filter((c) => c.candidate).length;
  stats.placeholders = slots.reduce((n, s) => n + s.references.length, 0);
  lap('parse');

  const secrets = await resolver.results();
  stats.secrets = secrets.size;
  for (const result of secrets.values()) if ('data' in result) logger.redact(result.data);
  errors.push(...substitute(slots, secrets));
  lap('resolve');

  if (errors.length) return { output: [], errors, stats };
  let output = writeOut(chunks, edited);
  if (options.record) output = await recorded(output, options.record, stats.secrets > 0 ? options.backend : undefined, logger);
  lap('write');
  return { output, errors, stats };
}

/**
 * The output with the record of the latest KV v2 versions it read (AVP_RECORD), when it read any.
 * Without the Application's name and namespace there is nowhere to put it: a warning, no record.
 */
async function recorded(output: string[], record: NonNullable<Config['record']>, backend: (() => Promise<Backend>) | undefined, logger: Logger): Promise<string[]> {
  if (!record.application) {
    logger.error('vaultfill: warning: AVP_RECORD is on, but ARGOCD_APP_NAME or ARGOCD_APP_NAMESPACE is not set (Argo CD sets both for a plugin); no record written');
    return output;
  }
  const versions = backend ? (await backend()).versions : undefined;
  return versions?.size ? withRecord(output, record.application, versions) : output;
}

/**
 * The output pieces: each document's piece of its source as it stands (lead, body, tail), with
 * an edited body in place of the old one. Adjacent untouched pieces of a source become one
 * slice of its text: writing thousands of small strings joined cost B2 ~20 ms more. Where one
 * source ends and the next begins, a line break and a `---` (or `...` before directives) are
 * added when the next does not bring its own.
 */
function writeOut(chunks: readonly Chunk[], edited: ReadonlyMap<number, Edited>): string[] {
  const output: string[] = [];
  let run: { source: Source; start: number; end: number } | undefined;
  let previous: Source | undefined;
  let lastChar = '';
  const push = (text: string): void => {
    if (!text) return;
    output.push(text);
    lastChar = text[text.length - 1] as string;
  };
  const endRun = (): void => {
    if (run) push(run.source.text.slice(run.start, run.end));
    run = undefined;
  };
  chunks.forEach((chunk, i) => {
    const { source } = chunk;
    const { text } = source;
    const [start, end] = chunk.span;
    const [bodyStart, bodyEnd] = chunk.body;
    if (source !== previous && previous !== undefined) {
      endRun();
      if (lastChar !== '\n') push('\n');
      if (text[bodyStart] === '%') push('...\n');
      else if (!/^---/m.test(text.slice(start, bodyStart)) && !text.startsWith('---', bodyStart)) push('---\n');
    }
    previous = source;
    const edit = edited.get(i);
    if (!edit) {
      if (run?.source === source && run.end === start) run.end = end;
      else {
        endRun();
        run = { source, start, end };
      }
      return;
    }
    endRun();
    let body = edit.serialize();
    // The body was given a final line break to be read; the source had none.
    if (bodyEnd === text.length && !text.endsWith('\n') && body.endsWith('\n')) body = body.slice(0, -1);
    push(text.slice(start, bodyStart) + body + text.slice(bodyEnd, end));
  });
  endRun();
  return output;
}

/** A document whose slots write into it; serialize() gives its new text. */
export interface Edited {
  serialize(): string;
}

/** The parse + collect step, shared by generate and check. */
export interface Collection {
  /** The chunks that hold slots (the only ones written anew), by index in the chunk list. */
  readonly edited: ReadonlyMap<number, Edited>;
  readonly slots: readonly Slot[];
  readonly errors: readonly VaultfillError[];
}

export function parseAndCollect(chunks: readonly Chunk[], config: CollectOptions): Collection {
  const edited = new Map<number, Edited>();
  const slots: Slot[] = [];
  const errors: VaultfillError[] = [];
  chunks.forEach((chunk, i) => {
    if (!chunk.candidate) return;
    const found = collectChunk(chunk, config);
    errors.push(...found.errors);
    slots.push(...found.slots);
    if (found.edited) edited.set(i, found.edited);
  });
  return { edited, slots, errors };
}

/** One candidate document: its slots, errors, and how to write it again when it has slots. */
function collectChunk(chunk: Chunk, config: CollectOptions): Collected & { readonly edited: Edited | undefined } {
  // The line scanner reads the common shape of rendered manifests several times faster than
  // the full parser; it declines anything else, which the full parser then reads.
  const edits: TextEdit[] = [];
  const edited = { serialize: () => applyEdits(chunk.text, edits) };
  const scanned = config.fullParser ? undefined : scanDocument(chunk.text);
  if (scanned) {
    const found = collectScanned(chunk, scanned, edits, config);
    return { ...found, edited: found.slots.length ? edited : undefined };
  }
  const result = parseChunk(chunk);
  if (result instanceof VaultfillError) return { slots: [], errors: [result], edited: undefined };
  const found = collect(result, edits, config);
  return { ...found, edited: found.slots.length ? edited : undefined };
}

/** EMPTY_INPUT when there are no manifests and --allow-empty was not given. */
export function emptyInputError(sources: readonly Source[], chunks: readonly Chunk[], allowEmpty: boolean): VaultfillError | undefined {
  if (allowEmpty || chunks.some((c) => !c.filler)) return undefined;
  const what = sources.length ? sources.map((s) => s.name).join(', ') : 'the directory (no *.yaml, *.yml or *.json files)';
  return new VaultfillError(
    'EMPTY_INPUT',
    `no manifests in ${what}; a failed render upstream would otherwise prune every resource of the app (pass --allow-empty if this is intended)`,
  );
}

/**
 * `vaultfill check`: the dry run. Lists every placeholder with its location and reference,
 * reads each distinct secret once (unless offline) and applies each placeholder's modifiers
 * to the real value, then reports resolved or failed with the reason. Values are never put in
 * the report: only codes and messages, which by errors.ts's contract name no value, and which
 * are redacted again as a second line of defence.
 *
 * `--output json` writes one document of this shape (version 1; fields are never renamed or
 * removed within a version, and every field is always present, `null` when unknown):
 *
 *   {
 *     "version": 1,
 *     "placeholders": [{            // in input order: source, document, line, column
 *       "source": "app.yaml",        // file path as given, or "stdin"
 *       "line": 12, "column": 9,     // 1-based position of the placeholder (of the scalar, in a base64 Secret value)
 *       "document": 1,               // 1-based YAML document within the source
 *       "resource": "Secret/db",     // Kind/name, or null
 *       "yamlPath": "stringData.password",
 *       "placeholder": "<path:secret/data/db#password | base64encode>",  // as written
 *       "path": "secret/data/db",    // the path read (the annotation's, for a generic <key>); null if unknown
 *       "key": "password",           // null if the placeholder does not parse
 *       "version": 3,                // the version read, or null for the latest (always null on KV v1)
 *       "modifiers": ["base64encode"],  // each `| modifier args` segment as written
 *       "status": "resolved",        // "resolved" | "failed" | "unchecked" (--offline) | "removed"
 *                                    // ("removed": key missing in a remove-missing resource; generate drops it)
 *       "error": null                // or {"code": "KEY_NOT_FOUND", "message": "..."} when failed
 *     }],
 *     "errors": [{                   // problems not tied to one placeholder (YAML_PARSE, ANNOTATION_INVALID,
 *       "code", "message",           //  EMPTY_INPUT, INPUT_READ, CONFIG, …)
 *       "source", "line", "column", "document", "resource", "yamlPath"   // each null when unknown
 *     }],
 *     "summary": {
 *       "placeholders", "secrets",   // placeholders listed; distinct secrets (path, version, KV version) referenced
 *       "resolved", "failed", "unchecked", "removed",
 *       "ignored",                   // resources annotated avp.kubernetes.io/ignore (their placeholders are not listed)
 *       "errors",                    // length of "errors"
 *       "ms"                         // wall time of the check, input reading included
 *     }
 *   }
 *
 * Exit code: 0 when nothing failed and there are no errors, otherwise generate's code for the
 * same problems (errors.ts EXIT). `unchecked` and `removed` are not failures.
 */
import { createBackend } from './backends/index.js';
import { secretId, type Backend } from './backends/types.js';
import { now } from './clock.js';
import { loadConfig, type Config, type Env } from './config.js';
import { ANNOTATION } from './constants.js';
import { EXIT, VaultfillError, VaultfillErrors, exitCodeOf, type ExitCode } from './errors.js';
import { emptyInputError, parseAndCollect } from './generate.js';
import { readInput, type Source, type Stdin } from './input/read.js';
import { kubeSecretReader } from './kube/secret.js';
import type { Logger } from './log.js';
import { parseChunk, splitDocuments } from './manifest/documents.js';
import type { Reference, Slot } from './placeholder/collect.js';
import { isTrue, viewOf } from './placeholder/scope.js';
import { findPlaceholders } from './placeholder/grammar.js';
import { substitute } from './placeholder/substitute.js';
import { resolveSecrets, type SecretResult } from './secrets/resolve.js';
import { locationFields, renderJson, renderText, toReportedError, type CheckReport, type CheckedPlaceholder } from './check-report.js';
import { yaml } from './yaml.js';

export interface CheckCommand {
  /** A file, a directory, or `-` for stdin. */
  readonly target: string;
  readonly stdin: Stdin;
  readonly env: Env;
  readonly configPath: string | undefined;
  readonly secretName: string | undefined;
  readonly secretsFile: string | undefined;
  readonly disableTokenCache: boolean;
  readonly allowEmpty: boolean;
  readonly offline: boolean;
  readonly json: boolean;
  /** stdout is a terminal: a table, coloured unless NO_COLOR is set. */
  readonly tty: boolean;
  readonly logger: Logger;
}

/** The command: settings and input problems go into the report too, so --output json always gets one. */
export async function runCheck(command: CheckCommand): Promise<{ readonly text: string; readonly exitCode: ExitCode }> {
  const { logger } = command;
  const started = now();
  let result: CheckResult;
  let backend: Promise<Backend> | undefined;
  try {
    const config = await loadConfig({
      env: command.env,
      configPath: command.configPath,
      secretName: command.secretName,
      secretsFile: command.secretsFile,
      readSecret: kubeSecretReader(command.env),
    });
    logger.debug(config.provenance);
    const sources = await readInput(command.target, command.stdin);
    const create = (): Promise<Backend> =>
      (backend ??= createBackend({ config, logger, env: command.env, disableTokenCache: command.disableTokenCache }));
    result = await check(sources, { config, backend: command.offline ? undefined : create, allowEmpty: command.allowEmpty, logger, started });
  } catch (error) {
    const errors = error instanceof VaultfillErrors ? error.errors : error instanceof VaultfillError ? [error] : undefined;
    if (!errors) throw error;
    const config = { kvVersion: 2, pathValidation: undefined, concurrency: 1 } as const;
    result = await check([], { config, backend: undefined, allowEmpty: true, logger, earlier: errors, started });
  }
  const { summary } = result.report;
  const requests = backend ? await backend.then((b) => b.requests, () => 0) : 0;
  logger.debug(
    `check: ${summary.placeholders} placeholder(s), ${summary.secrets} distinct secret(s), ${requests} backend request(s)` +
      `${command.offline ? ' (offline)' : ''}, ${summary.ignored} ignored resource(s); ms: ${summary.ms}`,
  );
  const noColor = Boolean(command.env['NO_COLOR']);
  const text = command.json ? renderJson(result.report) : renderText(result.report, { table: command.tty, color: command.tty && !noColor });
  return { text, exitCode: result.exitCode };
}

export interface CheckOptions {
  readonly config: Pick<Config, 'kvVersion' | 'pathValidation' | 'concurrency'>;
  /** Creates the backend on first use; undefined for --offline (no backend is created). */
  readonly backend: (() => Promise<Backend>) | undefined;
  readonly allowEmpty: boolean;
  readonly logger: Logger;
  /** Errors found before the input could be checked (settings, input read). */
  readonly earlier?: readonly VaultfillError[];
  /** now() (src/clock.ts) when the run started (defaults to the call). */
  readonly started?: number;
}

export interface CheckResult {
  readonly report: CheckReport;
  readonly exitCode: ExitCode;
}

interface Entry {
  readonly row: CheckedPlaceholder;
  readonly error: VaultfillError | undefined;
  readonly order: readonly number[];
}

export async function check(sources: readonly Source[], options: CheckOptions): Promise<CheckResult> {
  const started = options.started ?? now();
  const redactor = options.logger;
  const chunks = sources.flatMap(splitDocuments);
  const general: VaultfillError[] = [...(options.earlier ?? [])];
  const empty = emptyInputError(sources, chunks, options.allowEmpty);
  if (empty) general.push(empty);
  const { slots, errors } = parseAndCollect(chunks, options.config);
  const ignored = chunks.filter((c) => c.text.includes(ANNOTATION.ignore)).reduce((n, c) => n + ignoredIn(parseChunk(c)), 0);

  const sourceIndex = new Map(sources.map((s, i) => [s.name, i]));
  const orderOf = (r: CheckedPlaceholder): number[] => [sourceIndex.get(r.source ?? '') ?? -1, r.document ?? 0, r.line ?? 0, r.column ?? 0];
  const entries: Entry[] = [];
  const add = (row: CheckedPlaceholder, error: VaultfillError | undefined): void => {
    entries.push({ row, error, order: orderOf(row) });
  };
  for (const error of errors) {
    if (error.location?.placeholder === undefined) general.push(error);
    else add(unparsedRow(error, error.location.placeholder, redactor), error);
  }

  const references = slots.flatMap((slot) => slot.references.map((ref) => ({ ref, slot })));
  const requests = references.map(({ ref }) => ref.request);
  const secretCount = new Set(requests.map(secretId)).size;
  let secrets: Map<string, SecretResult> | undefined;
  if (options.backend) {
    secrets = await resolveSecrets(requests, options.backend, options.config.concurrency);
    for (const result of secrets.values()) {
      if (!('data' in result)) continue;
      options.logger.redact(result.data);
    }
  }
  for (const { ref, slot } of references) {
    const outcome = secrets ? resolveOne(ref, slot, secrets) : { status: 'unchecked' as const, error: undefined };
    add(referenceRow(ref, outcome.status, outcome.error, redactor), outcome.error);
  }
  entries.sort((a, b) => compareOrder(a.order, b.order));

  const rows = entries.map((e) => e.row);
  const count = (status: CheckedPlaceholder['status']): number => rows.filter((r) => r.status === status).length;
  const failures = [...general, ...entries.flatMap((e) => (e.row.status === 'failed' && e.error ? [e.error] : []))];
  const report: CheckReport = {
    version: 1,
    placeholders: rows,
    errors: general.map((e) => toReportedError(e, redactor)),
    summary: {
      placeholders: rows.length,
      secrets: secretCount,
      resolved: count('resolved'),
      failed: count('failed'),
      unchecked: count('unchecked'),
      removed: count('removed'),
      ignored,
      errors: general.length,
      ms: Math.round(now() - started),
    },
  };
  return { report, exitCode: failures.length ? exitCodeOf(failures) : EXIT.ok };
}

type Outcome = { readonly status: 'resolved' | 'removed'; readonly error: undefined } | { readonly status: 'failed'; readonly error: VaultfillError };

/**
 * One reference through generate's own substitution (modifiers included), alone in a copy of
 * its slot so every problem is reported against it. The edits land in parsed documents that
 * check never writes out.
 */
function resolveOne(ref: Reference, slot: Slot, secrets: ReadonlyMap<string, SecretResult>): Outcome {
  const alone: Slot = { ...slot, references: [ref], resource: { ...slot.resource, removeMissing: false } };
  const [error] = substitute([alone], secrets);
  if (!error) return { status: 'resolved', error: undefined };
  // The rule substitute applies to a missing key in a remove-missing resource: the key is dropped.
  const removable = slot.resource.removeMissing && slot.target.removable;
  if (error.code === 'KEY_NOT_FOUND' && removable) return { status: 'removed', error: undefined };
  return { status: 'failed', error: error.at(ref.location) };
}

function referenceRow(ref: Reference, status: CheckedPlaceholder['status'], error: VaultfillError | undefined, redactor: Pick<Logger, 'clean'>): CheckedPlaceholder {
  const { location: loc, request, placeholder } = ref;
  return {
    ...locationFields(loc),
    placeholder: placeholder.raw,
    path: request.path,
    key: placeholder.key,
    version: request.version ?? null,
    modifiers: modifiersOf(placeholder.raw),
    status,
    error: error ? { code: error.code, message: redactor.clean(error.message) } : null,
  };
}

/** A placeholder collect rejected (syntax, modifier, version, path validation): what can be read from its text. */
function unparsedRow(error: VaultfillError, raw: string, redactor: Pick<Logger, 'clean'>): CheckedPlaceholder {
  const loc = error.location ?? {};
  const [found] = findPlaceholders(raw, 'generic');
  const parsed = found && 'placeholder' in found ? found.placeholder : undefined;
  return {
    ...locationFields(loc),
    placeholder: raw,
    path: parsed?.path ?? null,
    key: parsed?.key ?? null,
    version: parsed?.version !== undefined && /^[1-9]\d*$/.test(parsed.version) ? Number(parsed.version) : null,
    modifiers: modifiersOf(raw),
    status: 'failed',
    error: { code: error.code, message: redactor.clean(error.message) },
  };
}

/** The `| modifier args` segments of a placeholder, as written (grammar.ts splits on `|` too). */
function modifiersOf(raw: string): string[] {
  return raw.slice(1, -1).split('|').slice(1).map((segment) => segment.trim().replace(/\s+/g, ' '));
}

/** Resources annotated avp.kubernetes.io/ignore: true (collect's rule, including kind: *List items). */
function ignoredIn(parsed: ReturnType<typeof parseChunk>): number {
  if (parsed instanceof VaultfillError) return 0;
  const count = (node: unknown): number => {
    const { isMap, isSeq } = yaml();
    if (!isMap(node)) return 0;
    const view = viewOf(node, () => undefined);
    if (isTrue(view.annotation(ANNOTATION.ignore))) return 1;
    const kind = view.kind;
    const items = node.get('items');
    if (typeof kind === 'string' && kind.endsWith('List') && isSeq(items)) return items.items.reduce<number>((n, item) => n + count(item), 0);
    return 0;
  };
  return parsed.documents.reduce((n, doc) => n + count(doc.contents), 0);
}

function compareOrder(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < a.length; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d) return d;
  }
  return 0;
}

/**
 * The `vaultfill check` report: its JSON shape (documented in check.ts) and its text forms, a
 * table on a terminal and one plain line per placeholder when piped. Nothing here sees a value.
 */
import { VaultfillError, formatError, type ErrorCode, type Location } from './errors.js';
import type { Logger } from './log.js';

export type Status = 'resolved' | 'failed' | 'unchecked' | 'removed';

/** Where a row is, `null` when unknown: every row of the report has these. */
export interface LocationFields {
  readonly source: string | null;
  readonly line: number | null;
  readonly column: number | null;
  readonly document: number | null;
  readonly resource: string | null;
  readonly yamlPath: string | null;
}

export interface CheckedPlaceholder extends LocationFields {
  readonly placeholder: string;
  readonly path: string | null;
  readonly key: string | null;
  readonly version: number | null;
  readonly modifiers: readonly string[];
  readonly status: Status;
  readonly error: { readonly code: ErrorCode; readonly message: string } | null;
}

export interface ReportedError extends LocationFields {
  readonly code: ErrorCode;
  readonly message: string;
}

export interface Summary {
  readonly placeholders: number;
  readonly secrets: number;
  readonly resolved: number;
  readonly failed: number;
  readonly unchecked: number;
  readonly removed: number;
  readonly ignored: number;
  readonly errors: number;
  readonly ms: number;
}

export interface CheckReport {
  readonly version: 1;
  readonly placeholders: readonly CheckedPlaceholder[];
  readonly errors: readonly ReportedError[];
  readonly summary: Summary;
}

/** The location fields every report row carries, `null` when unknown. */
export function locationFields(loc: Location = {}): LocationFields {
  return {
    source: loc.source ?? null,
    line: loc.line ?? null,
    column: loc.column ?? null,
    document: loc.document ?? null,
    resource: loc.resource ?? null,
    yamlPath: loc.yamlPath ?? null,
  };
}

export function toReportedError(error: VaultfillError, redactor: Pick<Logger, 'clean'>): ReportedError {
  return { code: error.code, message: redactor.clean(error.message), ...locationFields(error.location) };
}

export function renderJson(report: CheckReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

export interface TextStyle {
  /** A table (stdout is a terminal) rather than one plain line per placeholder. */
  readonly table: boolean;
  /** ANSI colour (a terminal, and NO_COLOR not set). */
  readonly color: boolean;
}

const COLORS: Record<Status | 'error' | 'bold', string> = {
  resolved: '32',
  failed: '31',
  unchecked: '33',
  removed: '2',
  error: '31',
  bold: '1',
};

export function renderText(report: CheckReport, style: TextStyle): string {
  const paint = (code: keyof typeof COLORS, text: string): string => (style.color && text ? `\u001b[${COLORS[code]}m${text}\u001b[0m` : text);
  const lines: string[] = [];
  if (style.table && report.placeholders.length) {
    const header = ['STATUS', 'LOCATION', 'DOC', 'RESOURCE', 'YAML PATH', 'REFERENCE', 'REASON'];
    const cells = report.placeholders.map((p) => [
      p.status,
      where(p),
      p.document === null ? '' : String(p.document),
      p.resource ?? '',
      p.yamlPath ?? '',
      reference(p),
      reason(p),
    ]);
    const widths = header.map((h, i) => Math.max(h.length, ...cells.map((row) => row[i]?.length ?? 0)));
    const line = (row: readonly string[], color: (i: number, cell: string) => string): string =>
      row.map((cell, i) => color(i, i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
    lines.push(line(header, (_i, cell) => paint('bold', cell)));
    report.placeholders.forEach((p, r) => lines.push(line(cells[r] ?? [], (i, cell) => (i === 0 ? paint(p.status, cell) : cell))));
  } else {
    for (const p of report.placeholders) {
      const context = [p.document === null ? '' : `document ${p.document}`, p.resource ?? '', p.yamlPath ?? ''].filter(Boolean).join(', ');
      const why = reason(p);
      lines.push(`${paint(p.status, p.status)} ${where(p)}${context ? ` (${context})` : ''} ${reference(p)}${why ? `: ${why}` : ''}`);
    }
  }
  if (report.errors.length && lines.length) lines.push('');
  for (const e of report.errors) lines.push(paint('error', formatReported(e)));
  if (lines.length) lines.push('');
  lines.push(summaryLine(report.summary));
  return `${lines.join('\n')}\n`;
}

function summaryLine(s: Summary): string {
  const n = (count: number, one: string, many = `${one}s`): string => `${count} ${count === 1 ? one : many}`;
  return (
    `summary: ${n(s.placeholders, 'placeholder')}, ${n(s.secrets, 'distinct secret')}: ` +
    `${s.resolved} resolved, ${s.failed} failed, ${s.unchecked} unchecked, ${s.removed} removed; ` +
    `${n(s.ignored, 'ignored resource')}; ${n(s.errors, 'other error')}; ${s.ms} ms`
  );
}

function where(p: CheckedPlaceholder): string {
  let text = p.source ?? '';
  if (p.line !== null) text += `:${p.line}${p.column !== null ? `:${p.column}` : ''}`;
  return text;
}

/** `path#key[#version] | modifiers`, or the placeholder as written when it did not parse. */
function reference(p: CheckedPlaceholder): string {
  if (p.path === null || p.key === null) return p.placeholder;
  const base = `${p.path}#${p.key}${p.version === null ? '' : `#${p.version}`}`;
  return [base, ...p.modifiers].join(' | ');
}

function reason(p: CheckedPlaceholder): string {
  if (p.error) return `${p.error.code} ${p.error.message}`;
  if (p.status === 'removed') return 'key missing: removed by avp.kubernetes.io/remove-missing';
  if (p.status === 'unchecked') return 'not read (--offline)';
  return '';
}

/** formatError's one-line form for an error in the report. */
function formatReported(e: ReportedError): string {
  const fields = Object.entries({ source: e.source, line: e.line, column: e.column, document: e.document, resource: e.resource, yamlPath: e.yamlPath });
  const present = fields.filter(([, value]) => value !== null);
  const location = present.length ? (Object.fromEntries(present) as Location) : undefined;
  return formatError(new VaultfillError(e.code, e.message, location ? { location } : {}));
}

/**
 * Every failure vaultfill reports is a VaultfillError with a stable code. Messages name files,
 * positions, paths and keys, never a value read from a backend.
 */

/** Exit codes by category; a run exits with the lowest code among its errors. */
export const EXIT = {
  ok: 0,
  internal: 1,
  usage: 2,
  input: 3,
  backend: 4,
  resolution: 5,
  /** stdout was closed before the output was written (as a shell reports a process killed by SIGPIPE). */
  outputClosed: 141,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

const CODES = {
  USAGE: EXIT.usage,
  CONFIG: EXIT.usage,
  INPUT_READ: EXIT.input,
  INPUT_ENCODING: EXIT.input,
  YAML_PARSE: EXIT.input,
  EMPTY_INPUT: EXIT.input,
  // `vaultfill helm` / `kustomize`: an Application-supplied argument or values file that is not
  // allowed (src/render/arguments.ts), and a checkout holding a symlink that leaves it.
  RENDER_ARGUMENT: EXIT.usage,
  RENDER_CHECKOUT: EXIT.input,
  BACKEND_UNREACHABLE: EXIT.backend,
  BACKEND_SEALED: EXIT.backend,
  BACKEND_TIMEOUT: EXIT.backend,
  BACKEND_ERROR: EXIT.backend,
  AUTH_FAILED: EXIT.backend,
  // `vaultfill refresh`: the Kubernetes API did not answer, or answered with an error.
  KUBE_UNREACHABLE: EXIT.backend,
  KUBE_API_ERROR: EXIT.backend,
  PLACEHOLDER_SYNTAX: EXIT.resolution,
  UNKNOWN_MODIFIER: EXIT.resolution,
  MODIFIER_ARGUMENT: EXIT.resolution,
  MODIFIER_FAILED: EXIT.resolution,
  PATH_VALIDATION: EXIT.resolution,
  MOUNT_NOT_ALLOWED: EXIT.resolution,
  INVALID_VERSION: EXIT.resolution,
  SECRET_NOT_FOUND: EXIT.resolution,
  VERSION_NOT_FOUND: EXIT.resolution,
  VERSION_DELETED: EXIT.resolution,
  KEY_NOT_FOUND: EXIT.resolution,
  PERMISSION_DENIED: EXIT.resolution,
  ANNOTATION_INVALID: EXIT.resolution,
  VALUE_UNREPRESENTABLE: EXIT.resolution,
  INTERNAL: EXIT.internal,
} as const satisfies Record<string, ExitCode>;

export type ErrorCode = keyof typeof CODES;

/** Where in the input a problem is. Every field is optional: settings errors have none. */
export interface Location {
  /** File path as given, or `stdin`. */
  readonly source?: string;
  readonly line?: number;
  readonly column?: number;
  /** 1-based index of the YAML document within its source. */
  readonly document?: number;
  /** `Kind/name` of the resource, when known. */
  readonly resource?: string;
  /** YAML path of the value, e.g. `spec.template.spec.containers[0].image`. */
  readonly yamlPath?: string;
  /** The placeholder as written in the manifest (never its value). */
  readonly placeholder?: string;
}

export class VaultfillError extends Error {
  override readonly name = 'VaultfillError';
  readonly code: ErrorCode;
  readonly exitCode: ExitCode;
  readonly location: Location | undefined;

  constructor(code: ErrorCode, message: string, options: { location?: Location; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.exitCode = CODES[code];
    this.location = options.location;
  }

  /** A copy of this error placed at `location` (fields given there win). */
  at(location: Location): VaultfillError {
    return new VaultfillError(this.code, this.message, { location: { ...this.location, ...location } });
  }
}

export function isVaultfillError(value: unknown): value is VaultfillError {
  return value instanceof VaultfillError;
}

/** A batch of errors found in one run, reported together. */
export class VaultfillErrors extends Error {
  override readonly name = 'VaultfillErrors';
  readonly errors: readonly VaultfillError[];
  constructor(errors: readonly VaultfillError[]) {
    super(`${errors.length} error(s)`);
    this.errors = errors;
  }
}

export function exitCodeOf(errors: readonly VaultfillError[]): ExitCode {
  return errors.reduce<ExitCode>((min, e) => (e.exitCode < min ? e.exitCode : min), EXIT.resolution);
}

/** One line: `error CODE at file:line:col (document N, Kind/name, yaml.path) <placeholder>: message`. */
export function formatError(error: VaultfillError): string {
  const loc = error.location;
  if (!loc) return `error ${error.code}: ${error.message}`;
  let where = loc.source ?? '';
  if (loc.line !== undefined) where += `:${loc.line}${loc.column !== undefined ? `:${loc.column}` : ''}`;
  const context = [
    loc.document !== undefined ? `document ${loc.document}` : undefined,
    loc.resource,
    loc.yamlPath,
  ].filter((x): x is string => Boolean(x));
  const parts = [`error ${error.code}`];
  if (where) parts.push(`at ${where}`);
  if (context.length) parts.push(`(${context.join(', ')})`);
  if (loc.placeholder) parts.push(loc.placeholder);
  return `${parts.join(' ')}: ${error.message}`;
}

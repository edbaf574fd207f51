/**
 * The one place that writes diagnostics to stderr. Every value read from a backend, and every
 * credential and token the Vault client sends or receives, is registered here and replaced by
 * `[redacted]` in anything written, as a second line of defence behind messages that never
 * include values in the first place (Vault's own error texts are quoted, and are not ours).
 */
import type { Writable } from 'node:stream';

export interface Logger {
  readonly verbose: boolean;
  /** Diagnostics shown with --verbose. */
  debug(message: string): void;
  /** Always shown. */
  error(message: string): void;
  /** Registers every string inside `value` (a secret's data, a credential, a token) for redaction. */
  redact(value: unknown): void;
  /** `message` with every registered value replaced, for text that leaves by another way (check's report). */
  clean(message: string): string;
}

const MIN_REDACTED_LENGTH = 3;
const SHORT_NUMBER = /^\d{1,7}$/;

export function createLogger(stderr: Writable, verbose: boolean): Logger {
  const secrets = new Set<string>();
  // The strings to mask, with their base64 forms, longest first: built when something is written
  // (most runs write nothing), not for each of the thousands of values registered.
  let masks: string[] | undefined;
  const add = (value: unknown): void => {
    if (typeof value === 'string') {
      // Short numbers (ports, replica counts) are settings, and masking them garbles the figures.
      if (value.length >= MIN_REDACTED_LENGTH && !SHORT_NUMBER.test(value) && !secrets.has(value)) {
        secrets.add(value);
        masks = undefined;
      }
    } else if (Array.isArray(value)) {
      value.forEach(add);
    } else if (value && typeof value === 'object') {
      Object.values(value).forEach(add);
    }
  };
  const clean = (message: string): string => {
    masks ??= [...new Set([...secrets].flatMap((s) => [s, Buffer.from(s, 'utf8').toString('base64')]))].sort((a, b) => b.length - a.length);
    let out = message;
    for (const mask of masks) out = out.split(mask).join('[redacted]');
    return out;
  };
  const write = (message: string): void => {
    stderr.write(`${clean(message)}\n`);
  };
  return {
    verbose,
    debug: (message) => {
      if (verbose) write(`vaultfill: ${message}`);
    },
    error: write,
    redact: add,
    clean,
  };
}

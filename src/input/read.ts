/**
 * Reads the input: stdin (`-`), one file, or a directory walked for *.yaml, *.yml and *.json,
 * in path order, following symlinks that stay inside it.
 */
import { fstatSync, readFileSync, readSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { VaultfillError, VaultfillErrors } from '../errors.js';

export interface Source {
  /** The file path (as given, joined with the walked relative path) or `stdin`. */
  readonly name: string;
  readonly text: string;
}

/** Standard input: a stream, or 0 for this process's own file descriptor 0. */
export type Stdin = AsyncIterable<Buffer | string> | 0;

export async function readInput(target: string, stdin: Stdin): Promise<Source[]> {
  if (target === '-') {
    const parts: Buffer[] = [];
    let rest: AsyncIterable<Buffer | string> | undefined = stdin === 0 ? undefined : stdin;
    if (stdin === 0) {
      const read = readFd0();
      parts.push(read.bytes);
      if (!read.eof) rest = process.stdin;
    }
    if (rest) for await (const part of rest) parts.push(typeof part === 'string' ? Buffer.from(part) : part);
    return [{ name: 'stdin', text: decode(parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts), 'stdin') }];
  }
  let isDirectory: boolean;
  try {
    isDirectory = statSync(target).isDirectory();
  } catch (error) {
    throw readError(target, error);
  }
  if (!isDirectory) return [{ name: target, text: decode(readBytes(target), target) }];
  const { default: glob } = await import('fast-glob');
  const files = (await glob('**/*.{yaml,yml,json}', { cwd: target, onlyFiles: true, followSymbolicLinks: true })).sort();
  // The directory is the repository's, and its author is not trusted with the sidecar's files:
  // a symlink may lead anywhere inside it, never out (a link to the token cache would be
  // echoed as a document: JSON is YAML). Each file is read once, however many links lead to
  // it (a loop such as sub/up -> .. lists every file again at each level).
  const root = realpathSync(target);
  const seen = new Set<string>();
  const sources: Source[] = [];
  const outside: VaultfillError[] = [];
  for (const rel of files) {
    const name = path.join(target, rel);
    let real: string;
    try {
      real = realpathSync(name);
    } catch (error) {
      throw readError(name, error);
    }
    if (!real.startsWith(root + path.sep)) {
      outside.push(new VaultfillError('INPUT_READ', `${name} leads outside ${target} through a symlink; only files inside the directory are read`, { location: { source: name } }));
      continue;
    }
    if (seen.has(real)) continue;
    seen.add(real);
    sources.push({ name, text: decode(readBytes(real), name) });
  }
  if (outside.length) throw new VaultfillErrors(outside);
  return sources;
}

/**
 * File descriptor 0 read with blocking reads, without the stream machinery: a 10 MB file in
 * ~6 ms instead of ~45. When fd 0 turns out non-blocking (EAGAIN: whoever shares it set that),
 * what was read so far is returned and the caller reads the rest as a stream.
 */
function readFd0(): { bytes: Buffer; eof: boolean } {
  let length = 0;
  let buffer: Buffer;
  try {
    buffer = Buffer.allocUnsafe(Math.max(fstatSync(0).size + 1, 1 << 16));
  } catch (error) {
    throw readError('stdin', error);
  }
  for (;;) {
    if (length === buffer.length) {
      const bigger = Buffer.allocUnsafe(buffer.length * 2);
      buffer.copy(bigger, 0, 0, length);
      buffer = bigger;
    }
    let n: number;
    try {
      n = readSync(0, buffer, length, buffer.length - length, null);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EAGAIN') return { bytes: buffer.subarray(0, length), eof: false };
      throw readError('stdin', error);
    }
    if (n === 0) return { bytes: buffer.subarray(0, length), eof: true };
    length += n;
  }
}

function readBytes(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw readError(file, error);
  }
}

function readError(file: string, error: unknown): VaultfillError {
  const code = (error as NodeJS.ErrnoException).code;
  const reason = code === 'ENOENT' ? 'no such file or directory' : code === 'EACCES' ? 'permission denied' : (code ?? 'unreadable');
  return new VaultfillError('INPUT_READ', `cannot read ${file}: ${reason}`, { location: { source: file } });
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** UTF-8 text without a byte-order mark; anything else is an input error with its position. */
function decode(bytes: Buffer, name: string): string {
  let text: string;
  try {
    text = UTF8.decode(bytes);
  } catch {
    const offset = firstInvalidUtf8(bytes);
    const line = bytes.subarray(0, offset).toString('latin1').split('\n').length;
    throw new VaultfillError('INPUT_ENCODING', `not UTF-8 text (invalid byte at offset ${offset}); is this a binary file?`, {
      location: { source: name, line },
    });
  }
  const nul = text.indexOf('\0');
  if (nul >= 0) {
    throw new VaultfillError('INPUT_ENCODING', 'contains a NUL character; is this a binary file?', {
      location: { source: name, line: text.slice(0, nul).split('\n').length },
    });
  }
  return text;
}

function firstInvalidUtf8(bytes: Buffer): number {
  let lo = 0;
  let hi = bytes.length;
  // The longest valid prefix, found by bisection on the fatal decoder.
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, mid), { stream: true });
      lo = mid;
    } catch {
      hi = mid - 1;
    }
  }
  return lo;
}

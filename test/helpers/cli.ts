/** Spawns the built CLI (npm test builds it first), as Argo CD's CMP server or a CI pipe would; or runs main() in-process. */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';

export const root = path.resolve(import.meta.dirname, '../..');
export const bin = path.join(root, (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { bin: Record<string, string> }).bin['vaultfill'] ?? '');

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `vaultfill args…` with only the given environment (plus PATH). */
export function vaultfill(args: readonly string[], options: { input?: string; env?: Record<string, string | undefined>; cwd?: string } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, {
      cwd: options.cwd ?? root,
      env: { PATH: process.env['PATH'] ?? '', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

/** Runs `main(argv…)` in this process (the sources, not the build), its output captured. */
export async function runMain(argv: readonly string[], options: { input?: string; env?: Record<string, string>; cwd?: string } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  // Loaded here, so that tests which only spawn the binary do not compile the sources.
  const { main } = await import('../../src/cli.js');
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  const input = options.input ?? '';
  const code = await main({
    argv: [...argv],
    env: options.env ?? {},
    stdin: (async function* () {
      if (input) yield input;
    })(),
    stdout,
    stderr,
    ...(options.cwd ? { cwd: options.cwd } : {}),
  });
  return { code, stdout: out, stderr: err };
}

/**
 * Runs helm or kustomize: an argv array, never a shell, with a trimmed environment; stdout
 * kept for the generate pipeline, stderr passed through as it comes.
 *
 * The environment holds only what the tools need (PATH, HOME, locale, proxies, HELM_*, XDG_*
 * …), never the sidecar's credentials (AVP_*, VAULT_*) or the Application's ARGOCD_ENV_*: a
 * way to make a tool print its environment, found or not yet found, finds nothing. helm's
 * plugin, registry and repository locations are pinned to the sidecar's own, because
 * kustomize's Helm inflator points HELM_CONFIG_HOME and HELM_DATA_HOME at a directory the
 * kustomization chooses (helmGlobals.configHome), and helm runs downloader plugins found there.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants as fsConstants, statSync } from 'node:fs';
import { constants as osConstants, homedir } from 'node:os';
import path from 'node:path';
import type { Writable } from 'node:stream';
import type { Env } from '../config.js';
import { VaultfillError } from '../errors.js';

export interface ToolRun {
  /** Absolute path of the program. */
  readonly file: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  /** Where the tool's stderr goes, unchanged. */
  readonly stderr: Writable;
}

export interface ToolResult {
  /** The exit status; 128 + the signal's number when a signal ended the tool, as shells report it. */
  readonly status: number;
  readonly stdout: Buffer;
}

export function runTool(run: ToolRun): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(run.file, [...run.args], { cwd: run.cwd, env: run.env, stdio: ['ignore', 'pipe', 'pipe'], shell: false });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    // Written as it arrives, so warnings and errors keep their order and reach Argo CD whole.
    child.stderr.on('data', (chunk: Buffer) => run.stderr.write(chunk));
    child.on('error', (error) =>
      reject(new VaultfillError('CONFIG', `cannot run ${run.file}: ${(error as NodeJS.ErrnoException).code ?? error.message}`)),
    );
    child.on('close', (code, signal) => {
      const status = code ?? 128 + (signal ? (osConstants.signals[signal] ?? 0) : 0);
      resolve({ status, stdout: Buffer.concat(chunks) });
    });
  });
}

/** The first executable `name` on PATH, as an absolute path. */
export function findOnPath(name: string, pathVariable: string | undefined): string | undefined {
  for (const dir of (pathVariable ?? '').split(':')) {
    if (!dir || !path.isAbsolute(dir)) continue;
    const file = path.join(dir, name);
    try {
      accessSync(file, fsConstants.X_OK);
      if (statSync(file).isFile()) return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Variables passed on to the tools; everything else stays in vaultfill. */
const PASSED = /^(PATH|HOME|USER|LOGNAME|TMPDIR|TZ|LANG|LANGUAGE|LC_[A-Z]+|HELM_[A-Z0-9_]+|KUSTOMIZE_[A-Z0-9_]+|XDG_[A-Z_]+|SSL_CERT_(FILE|DIR)|(HTTPS?|NO)_PROXY|(https?|no)_proxy)$/;

/** The tools' environment (see the header): the passed variables, HOME, and helm's pinned locations. */
export function toolEnvironment(env: Env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && PASSED.test(name)) out[name] = value;
  }
  const home = env.HOME || homedir();
  out.HOME = home;
  // Where helm itself would look, from the sidecar's settings (helmpath: HELM_*_HOME, then XDG_*, then HOME).
  const base = (helm: string, xdg: string, fallback: string) => env[helm] || path.join(env[xdg] || path.join(home, fallback), 'helm');
  const config = base('HELM_CONFIG_HOME', 'XDG_CONFIG_HOME', '.config');
  const data = base('HELM_DATA_HOME', 'XDG_DATA_HOME', '.local/share');
  const cache = base('HELM_CACHE_HOME', 'XDG_CACHE_HOME', '.cache');
  out.HELM_PLUGINS = env.HELM_PLUGINS || path.join(data, 'plugins');
  out.HELM_REGISTRY_CONFIG = env.HELM_REGISTRY_CONFIG || path.join(config, 'registry', 'config.json');
  out.HELM_REPOSITORY_CONFIG = env.HELM_REPOSITORY_CONFIG || path.join(config, 'repositories.yaml');
  out.HELM_REPOSITORY_CACHE = env.HELM_REPOSITORY_CACHE || path.join(cache, 'repository');
  return out;
}

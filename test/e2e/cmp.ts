// Runs a ConfigManagementPlugin's commands the way Argo CD's argocd-cmp-server does:
// in the Application's source directory, with the sidecar's environment, the standard
// build variables, the Application's plugin env prefixed with ARGOCD_ENV_, and its
// parameters as ARGOCD_APP_PARAMETERS (JSON) plus PARAM_<NAME> variables.
//
// test/loop/ runs the real thing (Argo CD's repo-server and argocd-cmp-server, the image as
// sidecars, a cluster): it proves the wiring, discovery, the tarball, the timeouts and what an
// Application's status shows. This imitation stays for the many cases that only need the
// plugin's own commands as shipped — each render argument, attack and parameter form — which
// it runs in milliseconds rather than a sync each.
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const distBin = join(repoRoot, 'dist', 'bin.cjs');
export const secretsFile = join(repoRoot, 'examples', 'secrets.yaml');

export interface Command {
  readonly command: string[];
  readonly args?: string[];
}

export interface StaticParameter {
  readonly name: string;
  readonly collectionType?: string;
  readonly itemType?: string;
  readonly array?: unknown;
  readonly map?: unknown;
  readonly string?: unknown;
}

export interface PluginConfig {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string };
  readonly spec: {
    readonly version?: string;
    readonly init?: Command;
    readonly generate: Command;
    readonly discover?: { readonly fileName?: string; readonly find?: unknown };
    readonly parameters?: { readonly static?: StaticParameter[] };
  };
}

export type Parameter =
  | { readonly name: string; readonly string: string }
  | { readonly name: string; readonly array: readonly string[] }
  | { readonly name: string; readonly map: Readonly<Record<string, string>> };

export function loadPlugin(relativePath: string): PluginConfig {
  const parsed: unknown = YAML.parse(readFileSync(join(repoRoot, relativePath), 'utf8'));
  if (!isRecord(parsed) || !isRecord(parsed.spec) || !isRecord(parsed.metadata)) {
    throw new Error(`${relativePath} is not a ConfigManagementPlugin`);
  }
  return parsed as unknown as PluginConfig;
}

export interface RunOptions {
  /** The Application's source directory (the working directory of every command). */
  readonly cwd: string;
  /**
   * The repository checkout `cwd` lies in: ARGOCD_APP_SOURCE_PATH is then `cwd` relative to it,
   * as Argo CD sets it. Without it, ARGOCD_APP_SOURCE_PATH is `cwd` itself, which no checkout
   * ends with, so vaultfill takes `cwd` as the checkout.
   */
  readonly checkoutRoot?: string;
  readonly appName: string;
  readonly appNamespace: string;
  /** Directories put first on PATH: the vaultfill launcher, helm, stubs. */
  readonly path: readonly string[];
  /** spec.source.plugin.env of the Application: reaches the plugin as ARGOCD_ENV_<name>. */
  readonly appEnv?: Readonly<Record<string, string>>;
  /** spec.source.plugin.parameters of the Application. */
  readonly parameters?: readonly Parameter[];
  /** The sidecar container's own environment. */
  readonly sidecarEnv?: Readonly<Record<string, string>>;
  readonly kubeVersion?: string;
  readonly kubeApiVersions?: string;
}

export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs init (when the plugin has one) and then generate; stops at the first failure. */
export async function runPlugin(plugin: PluginConfig, options: RunOptions): Promise<RunResult> {
  const env = cmpEnvironment(options);
  if (plugin.spec.init) {
    const init = await run(plugin.spec.init, options.cwd, env);
    if (init.code !== 0) return init;
  }
  return run(plugin.spec.generate, options.cwd, env);
}

export function cmpEnvironment(options: RunOptions): Record<string, string> {
  // Start from nothing but PATH and HOME, so that no AVP_* or VAULT_* setting of the
  // machine running the tests can leak in: the plugin sees what Argo CD would give it.
  const env: Record<string, string> = {
    PATH: [...options.path, '/usr/local/bin', '/usr/bin', '/bin'].join(':'),
    HOME: sharedHome(),
    ...options.sidecarEnv,
    ARGOCD_APP_NAME: options.appName,
    ARGOCD_APP_NAMESPACE: options.appNamespace,
    ARGOCD_APP_REVISION: '0123456789abcdef0123456789abcdef01234567',
    ARGOCD_APP_SOURCE_REPO_URL: 'https://git.example.com/platform/deployments.git',
    ARGOCD_APP_SOURCE_PATH: options.checkoutRoot ? relative(options.checkoutRoot, options.cwd) || '.' : options.cwd,
    ARGOCD_APP_SOURCE_TARGET_REVISION: 'main',
    KUBE_VERSION: options.kubeVersion ?? '1.31',
    KUBE_API_VERSIONS: options.kubeApiVersions ?? 'v1,apps/v1,batch/v1,networking.k8s.io/v1',
  };
  for (const [name, value] of Object.entries(options.appEnv ?? {})) {
    env[`ARGOCD_ENV_${name}`] = value;
  }
  const parameters = options.parameters ?? [];
  if (parameters.length > 0) env.ARGOCD_APP_PARAMETERS = JSON.stringify(parameters);
  Object.assign(env, parameterVariables(parameters));
  return env;
}

/** PARAM_<NAME>, PARAM_<NAME>_<i>, PARAM_<NAME>_<KEY>: Argo CD's naming for parameters. */
export function parameterVariables(parameters: readonly Parameter[]): Record<string, string> {
  const name = (...parts: string[]) => `PARAM_${parts.join('_')}`.replace(/[^A-Za-z0-9_]/g, '_').toUpperCase();
  const env: Record<string, string> = {};
  for (const parameter of parameters) {
    if ('string' in parameter) env[name(parameter.name)] = parameter.string;
    else if ('array' in parameter) parameter.array.forEach((item, i) => (env[name(parameter.name, String(i))] = item));
    else for (const [key, value] of Object.entries(parameter.map)) env[name(parameter.name, key)] = value;
  }
  return env;
}

function run(command: Command, cwd: string, env: Record<string, string>): Promise<RunResult> {
  const [file, ...rest] = command.command;
  if (!file) throw new Error('plugin command is empty');
  return new Promise((resolvePromise, reject) => {
    const child = spawn(file, [...rest, ...(command.args ?? [])], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    // A bound for a hung command (argocd-cmp-server itself stops one at the caller's deadline: 60 s by default).
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
  });
}

/**
 * The directory of a helm binary built by scripts/install-helm.mjs (minutes when cold, cached
 * after): call it early, so other tests run while it builds.
 */
export function installHelm(): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [join(repoRoot, 'scripts', 'install-helm.mjs')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
    child.on('error', reject);
    child.on('close', (code) => {
      const path = out.trim();
      if (code === 0 && path) resolvePromise(dirname(path));
      else reject(new Error(`scripts/install-helm.mjs failed (exit ${code}):\n${err}`));
    });
  });
}

/** A bin directory with `vaultfill` and `argocd-vault-plugin` launchers for dist/bin.cjs. */
export function launcherDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'vaultfill-e2e-bin-'));
  for (const name of ['vaultfill', 'argocd-vault-plugin']) {
    writeExecutable(join(dir, name), `#!/bin/sh\nexec "${distBin}" "$@"\n`);
  }
  return dir;
}

export function writeExecutable(file: string, content: string): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, content);
  chmodSync(file, 0o755);
}

let home: string | undefined;
/** One scratch HOME per test process (helm keeps its cache and config there). */
export function sharedHome(): string {
  home ??= mkdtempSync(join(tmpdir(), 'vaultfill-e2e-home-'));
  return home;
}

/** The documents of a manifest stream, as plain data; throws on a YAML error. */
export function parseManifests(stream: string): Record<string, unknown>[] {
  const documents = YAML.parseAllDocuments(stream);
  const out: Record<string, unknown>[] = [];
  for (const document of documents) {
    if (document.errors.length > 0) throw new Error(`invalid YAML: ${document.errors[0]?.message}`);
    const value: unknown = document.toJS();
    if (value === null || value === undefined) continue;
    if (!isRecord(value)) throw new Error(`not a manifest: ${JSON.stringify(value)}`);
    out.push(value);
  }
  return out;
}

export function find(manifests: readonly Record<string, unknown>[], kind: string, name: string): Record<string, unknown> {
  const match = manifests.find((m) => m.kind === kind && isRecord(m.metadata) && m.metadata.name === name);
  if (!match) {
    const have = manifests.map((m) => `${String(m.kind)}/${isRecord(m.metadata) ? String(m.metadata.name) : '?'}`);
    throw new Error(`no ${kind}/${name} in output (have ${have.join(', ')})`);
  }
  return match;
}

/** Every string (keys and values) in a parsed manifest that still looks like a placeholder. */
export function leftoverPlaceholders(value: unknown): string[] {
  const found: string[] = [];
  const walk = (v: unknown): void => {
    if (typeof v === 'string') {
      if (/<path:|<[\w.-]+(\s*\|[^>]*)?>/.test(v)) found.push(v);
    } else if (Array.isArray(v)) {
      v.forEach(walk);
    } else if (isRecord(v)) {
      for (const [key, item] of Object.entries(v)) {
        walk(key);
        walk(item);
      }
    }
  };
  walk(value);
  return found;
}

/** Follows a path of keys and indexes through parsed YAML. */
export function at(value: unknown, ...path: (string | number)[]): unknown {
  let current = value;
  for (const step of path) {
    if (typeof step === 'number' && Array.isArray(current)) current = current[step];
    else if (typeof step === 'string' && isRecord(current)) current = current[step];
    else return undefined;
  }
  return current;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function base64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

export function fromBase64(text: unknown): string {
  if (typeof text !== 'string') throw new Error(`not base64 text: ${JSON.stringify(text)}`);
  return Buffer.from(text, 'base64').toString('utf8');
}

/**
 * The command line: main() takes argv, env and the three streams and returns an exit code.
 * This is the only writer to stdout.
 */
import type { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import type { Backend } from './backends/types.js';
import { now } from './clock.js';
import type { Env } from './config.js';
import { RECORD, SETTING, VERSION } from './constants.js';
import { EXIT, VaultfillError, VaultfillErrors, exitCodeOf, formatError } from './errors.js';
import type { Source, Stdin } from './input/read.js';
import { createLogger, type Logger } from './log.js';

// The commands' modules (yaml, fast-glob, the backends) load only when a command needs them,
// so `version` and `help` start as fast as Node itself.
const loadCheck = () => import('./check.js');
const loadGenerate = () =>
  Promise.all([import('./config.js'), import('./input/read.js'), import('./generate.js'), import('./backends/index.js'), import('./kube/secret.js')]);

export interface MainOptions {
  readonly argv: readonly string[];
  readonly env: Env;
  readonly stdin: Stdin;
  readonly stdout: Writable;
  readonly stderr: Writable;
  /** The working directory of `helm` and `kustomize` (default: the process's). */
  readonly cwd?: string;
  /** Ends `vaultfill refresh`'s long-running mode (the binary ends it with the process). */
  readonly signal?: AbortSignal;
}

export const HELP = `vaultfill ${VERSION}: fills <path:…#key> placeholders in Kubernetes manifests from Vault.

Usage:
  vaultfill generate <path|->   render manifests from a file, a directory or stdin (-)
  vaultfill check <path|->      dry run: list every placeholder and whether it resolves
                                (secrets are read, values are never printed)
  vaultfill helm                helm template the chart in the current directory, then generate;
                                Argo CD plugin parameters (PARAM_*), allow-listed (see README)
  vaultfill kustomize           kustomize build . (or kubectl kustomize .), then generate
  vaultfill refresh             mark for a hard refresh the Argo CD Applications whose recorded
                                secret versions (AVP_RECORD) are older than Vault's (README: Rotation)
  vaultfill version             print the version
  vaultfill help                print this help

Options for generate, helm and kustomize:
  -c, --config-path <file>      settings file (YAML, JSON or NAME=value lines)
  -s, --secret-name <[ns:]name> settings from a Kubernetes Secret (default namespace argocd)
      --secrets-file <file>     local-file backend: secrets from this YAML file (AVP_TYPE=file)
      --disable-token-cache     do not read or write the Vault token cache
      --allow-empty             accept input without manifests (empty output, exit 0)
      --verbose                 diagnostics on stderr (values are never printed)
  -h, --help                    print this help

Options for refresh (and -c, -s, --disable-token-cache, --verbose):
      --once                    one round, then exit (non-zero if it had an error); for a CronJob
      --interval <duration>     time between rounds, e.g. 30s, 5m (default 60s)
      --service-account-dir <dir>  Kubernetes API token, ca.crt and namespace
                                (default /var/run/secrets/kubernetes.io/serviceaccount)

Options for check (and those of generate above):
      --offline                 grammar and annotation checks only; no backend is contacted
  -o, --output <text|json>      report format (default text: a table on a terminal, plain
                                lines when piped; colour only on a terminal, never with NO_COLOR)

Settings come from the environment with argocd-vault-plugin's names (AVP_TYPE, AVP_AUTH_TYPE,
VAULT_ADDR, …). An Application's plugin env (ARGOCD_ENV_<NAME>) may set only AVP_KV_VERSION,
and what the sidecar's AVP_APP_SETTINGS allows. Exit codes: 0 ok, 1 internal error, 2 usage or
settings, 3 input, 4 Vault/backend, 5 placeholder resolution, 141 stdout closed early; when helm
or kustomize fails, its own exit status.
`;

export async function main(options: MainOptions): Promise<number> {
  const { stdout, stderr } = options;
  let parsed;
  try {
    parsed = parseArgs({
      args: [...options.argv],
      allowPositionals: true,
      strict: true,
      options: {
        'config-path': { type: 'string', short: 'c' },
        'secret-name': { type: 'string', short: 's' },
        'secrets-file': { type: 'string' },
        'disable-token-cache': { type: 'boolean', default: false },
        'allow-empty': { type: 'boolean', default: false },
        verbose: { type: 'boolean', default: false },
        offline: { type: 'boolean', default: false },
        output: { type: 'string', short: 'o' },
        once: { type: 'boolean', default: false },
        interval: { type: 'string' },
        'service-account-dir': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    return usage(stderr, error instanceof Error ? error.message : String(error));
  }
  const { values, positionals } = parsed;
  const [command, ...rest] = positionals;
  if (values.help || command === 'help') {
    stdout.write(HELP);
    return EXIT.ok;
  }
  if (command === 'version') {
    stdout.write(`vaultfill ${VERSION}\n`);
    return EXIT.ok;
  }
  // ── check: a report on stdout (see src/check.ts) ──
  if (command === 'check') {
    if (rest.length !== 1) return usage(stderr, 'check takes exactly one <path> or - for stdin');
    const output = values.output ?? 'text';
    if (output !== 'text' && output !== 'json') return usage(stderr, `--output takes text or json, not "${output}"`);
    const logger = createLogger(stderr, values.verbose);
    try {
      const { runCheck } = await loadCheck();
      const result = await runCheck({
        target: rest[0] as string,
        stdin: options.stdin,
        env: options.env,
        configPath: values['config-path'],
        secretName: values['secret-name'],
        secretsFile: values['secrets-file'],
        disableTokenCache: values['disable-token-cache'],
        allowEmpty: values['allow-empty'],
        offline: values.offline,
        json: output === 'json',
        tty: (stdout as Writable & { isTTY?: boolean }).isTTY === true,
        logger,
      });
      stdout.write(result.text);
      return result.exitCode;
    } catch (error) {
      logger.error(`error INTERNAL: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      return EXIT.internal;
    }
  }
  if (values.offline || values.output !== undefined) return usage(stderr, '--offline and --output are options of check');
  if (command === 'refresh') return runRefresh(options, values, rest);
  if (values.once || values.interval !== undefined || values['service-account-dir'] !== undefined) {
    return usage(stderr, '--once, --interval and --service-account-dir are options of refresh');
  }
  // ── end check ──
  const logger = createLogger(stderr, values.verbose);
  if (command === 'helm' || command === 'kustomize') {
    if (rest.length !== 0) return usage(stderr, `${command} takes no arguments: it renders the current directory, with Argo CD's PARAM_* parameters`);
    const context = { env: options.env, cwd: options.cwd ?? process.cwd(), stderr, logger };
    return generateFrom(options, values, logger, async () =>
      command === 'helm' ? (await import('./render/helm.js')).renderHelm(context) : (await import('./render/kustomize.js')).renderKustomize(context),
    );
  }
  if (command !== 'generate') return usage(stderr, command ? `unknown command "${command}"` : 'no command given');
  if (rest.length !== 1) return usage(stderr, 'generate takes exactly one <path> or - for stdin');
  return generateFrom(options, values, logger, async () => (await import('./input/read.js')).readInput(rest[0] as string, options.stdin));
}

/** `vaultfill refresh` (src/refresh/refresh.ts): long-running, or one round with --once. */
async function runRefresh(
  options: MainOptions,
  values: Values & { readonly once: boolean; readonly interval?: string; readonly 'service-account-dir'?: string; readonly verbose: boolean },
  rest: readonly string[],
): Promise<number> {
  const { stderr } = options;
  if (rest.length) return usage(stderr, 'refresh takes no arguments');
  if (values['secrets-file'] !== undefined || values['allow-empty']) return usage(stderr, '--secrets-file and --allow-empty are options of generate');
  const { parseInterval, refresh } = await import('./refresh/refresh.js');
  const intervalMs = values.interval === undefined ? RECORD.defaultIntervalMs : parseInterval(values.interval);
  if (intervalMs === undefined) return usage(stderr, `--interval takes a duration from 100ms to 24h, such as 30s or 5m, not "${values.interval}"`);
  const logger = createLogger(stderr, values.verbose);
  try {
    const [{ loadConfig }, { kubeSecretReader }, { SERVICE_ACCOUNT_DIR }] = await Promise.all([import('./config.js'), import('./kube/secret.js'), import('./kube/api.js')]);
    const config = await loadConfig({ env: options.env, configPath: values['config-path'], secretName: values['secret-name'], readSecret: kubeSecretReader(options.env) });
    logger.debug(config.provenance);
    if (config.type === 'file') return report(logger, [new VaultfillError('CONFIG', `refresh reads Vault's KV metadata; ${SETTING.type} is "file"`)]);
    return await refresh({
      config,
      env: options.env,
      logger,
      once: values.once,
      intervalMs,
      serviceAccountDir: values['service-account-dir'] ?? SERVICE_ACCOUNT_DIR,
      disableTokenCache: values['disable-token-cache'],
      signal: options.signal,
    });
  } catch (error) {
    if (error instanceof VaultfillErrors) return report(logger, error.errors);
    if (error instanceof VaultfillError) return report(logger, [error]);
    logger.error(`error INTERNAL: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    return EXIT.internal;
  }
}

interface Values {
  readonly 'config-path'?: string;
  readonly 'secret-name'?: string;
  readonly 'secrets-file'?: string;
  readonly 'disable-token-cache': boolean;
  readonly 'allow-empty': boolean;
}

/**
 * The generate pipeline on the manifests `read` returns (a file, a directory, stdin, or a
 * tool's output). A number instead of manifests is the exit status of a tool that failed and
 * has said why on stderr: it is returned as it is.
 */
async function generateFrom(options: MainOptions, values: Values, logger: Logger, read: () => Promise<Source[] | number>): Promise<number> {
  const { stdout } = options;
  try {
    const [{ loadConfig }, , { generate }, { createBackend }, { kubeSecretReader }] = await loadGenerate();
    const config = await loadConfig({
      env: options.env,
      configPath: values['config-path'],
      secretName: values['secret-name'],
      secretsFile: values['secrets-file'],
      readSecret: kubeSecretReader(options.env),
    });
    logger.debug(config.provenance);
    // The Vault client's modules load now rather than at the first placeholder: loaded in slices
    // between parsed documents, they kept the first read waiting until parsing was nearly done.
    if (config.type === 'vault') await import('./backends/vault.js');
    const reading = now();
    const sources = await read();
    if (typeof sources === 'number') return sources;
    const readMs = Math.round(now() - reading);
    let backend: Promise<Backend> | undefined;
    const result = await generate(sources, {
      config,
      allowEmpty: values['allow-empty'],
      logger,
      record: config.record,
      backend: () => (backend ??= createBackend({ config, logger, env: options.env, disableTokenCache: values['disable-token-cache'] })),
    });
    const { stats } = result;
    const requests = backend ? await backend.then((b) => b.requests, () => 0) : 0;
    const { ms } = stats;
    logger.debug(
      `${sources.length} source(s), ${stats.documents} document(s) read, ${stats.parsed} parsed, ${stats.placeholders} placeholder(s), ` +
        `${stats.secrets} distinct secret(s), ${requests} backend request(s); ms: read ${readMs}, parse ${ms.parse}, ` +
        `resolve ${ms.resolve}, write ${ms.write}, total ${readMs + ms.parse + ms.resolve + ms.write}`,
    );
    if (result.errors.length) return report(logger, result.errors);
    return (await write(stdout, result.output)) ? EXIT.ok : EXIT.outputClosed;
  } catch (error) {
    if (error instanceof VaultfillErrors) return report(logger, error.errors);
    if (error instanceof VaultfillError) return report(logger, [error]);
    logger.error(`error INTERNAL: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    return EXIT.internal;
  }
}

/**
 * Writes the output: small pieces joined in batches of about 1 MB, large ones (runs of untouched
 * documents) as they are, so there is never one copy of the whole output in memory. Returns
 * false when the reader went away (EPIPE: `vaultfill generate . | head`); the rest is dropped.
 */
async function write(stdout: Writable, pieces: readonly string[]): Promise<boolean> {
  let closed = false;
  // Kept after the return: an EPIPE of the last write is reported after it.
  stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    closed = true;
  });
  const put = async (text: string): Promise<void> => {
    if (closed) return;
    if (!stdout.write(text)) await new Promise((resolve) => (stdout.once('drain', resolve), stdout.once('error', resolve)));
  };
  let batch = '';
  for (const piece of pieces) {
    if (piece.length >= 1 << 16) {
      if (batch) await put(batch);
      batch = '';
      await put(piece);
      continue;
    }
    batch += piece;
    if (batch.length >= 1 << 20) {
      await put(batch);
      batch = '';
    }
  }
  if (batch) await put(batch);
  await new Promise((resolve) => setImmediate(resolve));
  return !closed;
}

function report(logger: Logger, errors: readonly VaultfillError[]): number {
  for (const error of errors) logger.error(formatError(error));
  if (errors.length > 1) logger.error(`vaultfill: ${errors.length} errors; nothing was written to stdout`);
  return exitCodeOf(errors);
}

function usage(stderr: Writable, message: string): number {
  stderr.write(`error USAGE: ${message} (see vaultfill --help)\n`);
  return EXIT.usage;
}

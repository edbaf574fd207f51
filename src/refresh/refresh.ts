/**
 * `vaultfill refresh`: rotation that reaches the cluster. Argo CD caches a render per commit, so a
 * new version written to Vault reaches the cluster only with a hard refresh. Each round:
 *
 *   list the records (ConfigMaps labelled vaultfill.io/record=true) and the Applications
 *   → match them (plan.ts) → read each distinct recorded path's KV v2 *metadata* once
 *   → set argocd.argoproj.io/refresh=hard on exactly the Applications that recorded an older version.
 *
 * Vault sees one metadata read per distinct path per round, never a data read; Kubernetes sees
 * two lists and one merge patch per stale Application. An error in a round is logged (one line,
 * its code) and the round is tried again at the next interval; `--once` exits with it.
 * Long-running, an Application is marked once per (record, Vault versions): one that has not
 * synced yet is not marked again every round. `--once` keeps no memory and marks every time.
 */
import pLimit from 'p-limit';
import type { Config, Env } from '../config.js';
import { RECORD } from '../constants.js';
import { VaultfillError, exitCodeOf, formatError, EXIT } from '../errors.js';
import { inClusterApi, type KubeApi } from '../kube/api.js';
import type { Logger } from '../log.js';
import { metadataPath } from './record.js';
import { matchRecords, metadataPaths, staleApplications, type ApplicationObject, type RecordObject } from './plan.js';

export interface RefreshOptions {
  readonly config: Config;
  readonly env: Env;
  readonly logger: Logger;
  readonly once: boolean;
  readonly intervalMs: number;
  /** Where the Kubernetes API token, ca.crt and namespace are (the pod's service account). */
  readonly serviceAccountDir: string;
  readonly disableTokenCache: boolean;
  /** Ends the long-running mode (after the round in progress). */
  readonly signal?: AbortSignal | undefined;
}

export async function refresh(options: RefreshOptions): Promise<number> {
  const kube = inClusterApi(options.env, options.serviceAccountDir, 'Applications and records');
  const { createMetadataReader } = await import('../backends/vault.js');
  // Marked in long-running mode: Application → what it was marked for (record and Vault versions).
  const marked = new Map<string, string>();
  for (let round = 1; ; round++) {
    const errors = await runRound(options, kube, createMetadataReader, options.once ? undefined : marked, round);
    if (options.once) return errors.length ? exitCodeOf(errors) : EXIT.ok;
    if (await sleep(options.intervalMs, options.signal)) return EXIT.ok;
  }
}

type ReaderFactory = (typeof import('../backends/vault.js'))['createMetadataReader'];

async function runRound(options: RefreshOptions, kube: KubeApi, createMetadataReader: ReaderFactory, marked: Map<string, string> | undefined, round: number): Promise<VaultfillError[]> {
  const { logger, config } = options;
  const errors: VaultfillError[] = [];
  const fail = (error: unknown): void => {
    const e = error instanceof VaultfillError ? error : new VaultfillError('INTERNAL', error instanceof Error ? (error.stack ?? error.message) : String(error));
    errors.push(e);
    logger.error(`vaultfill refresh: round ${round}: ${formatError(e)}`);
  };
  let records: RecordObject[];
  let applications: ApplicationObject[];
  try {
    [records, applications] = await Promise.all([
      list<RecordObject>(kube, `/api/v1/configmaps?labelSelector=${encodeURIComponent(`${RECORD.label}=true`)}`, 'ConfigMaps (records)'),
      list<ApplicationObject>(kube, '/apis/argoproj.io/v1alpha1/applications', 'Applications'),
    ]);
  } catch (error) {
    fail(error);
    return errors;
  }
  const { matched, unmatched } = matchRecords(records, applications, kube.namespace ?? 'argocd');
  for (const why of unmatched) logger.debug(`record ${why}; ignored`);

  // One metadata read per distinct path, however many Applications recorded it.
  const paths = metadataPaths(matched);
  const current = new Map<string, number>();
  let requests = 0;
  if (paths.length) {
    try {
      const reader = createMetadataReader({ config, logger, env: options.env, disableTokenCache: options.disableTokenCache });
      const limit = pLimit(config.concurrency);
      await Promise.all(paths.map((path) => limit(async () => {
        try {
          current.set(path, await reader.currentVersion(path));
        } catch (error) {
          fail(error);
        }
      })));
      requests = reader.requests;
    } catch (error) {
      fail(error);
    }
  }

  const stale = staleApplications(matched, current);
  const toMark = stale.filter((s) => marked?.get(s.matched.app) !== s.key);
  if (logger.verbose) {
    for (const m of matched) {
      const found = stale.find((s) => s.matched === m);
      const versions = [...m.versions].map(([path, recorded]) => {
        const now = found?.paths.find((p) => p.path === path)?.current ?? current.get(metadataPath(path) ?? path);
        return `${path} recorded ${recorded}, current ${now ?? 'unknown'}`;
      });
      const what = !found ? 'up to date' : toMark.includes(found) ? 'marked for a hard refresh' : 'already marked for these versions';
      logger.debug(`Application ${m.app} (record ${m.record}): ${versions.join('; ')}: ${what}`);
    }
  }
  const patched: string[] = [];
  for (const s of toMark) {
    try {
      await markForHardRefresh(kube, s.matched.namespace, s.matched.name);
      marked?.set(s.matched.app, s.key);
      patched.push(s.matched.app);
    } catch (error) {
      fail(error);
    }
  }
  // Forget Applications that are up to date again, so a later rotation marks them anew (not
  // after a round that could not read every path: those may be behind still).
  if (marked && current.size === paths.length) for (const app of marked.keys()) if (!stale.some((s) => s.matched.app === app)) marked.delete(app);
  logger.error(
    `vaultfill refresh: round ${round}: ${records.length} record(s), ${matched.length} matched to an Application; ` +
      `${paths.length} distinct path(s) read from Vault's KV metadata (${requests} request(s)); ` +
      `${stale.length} Application(s) behind Vault, ${patched.length} marked for a hard refresh${patched.length ? ` (${patched.join(', ')})` : ''}; ${errors.length} error(s)`,
  );
  return errors;
}

/** Every item of a list, page by page. */
async function list<T>(kube: KubeApi, apiPath: string, what: string): Promise<T[]> {
  const items: T[] = [];
  let next: string | undefined = '';
  while (next !== undefined) {
    const page = `${apiPath}${apiPath.includes('?') ? '&' : '?'}limit=500${next ? `&continue=${encodeURIComponent(next)}` : ''}`;
    const { status, body } = await kube.request('GET', page);
    if (status !== 200) throw apiError(status, body, `listing ${what}`, 'list');
    const answer = body as { items?: T[]; metadata?: { continue?: string } } | undefined;
    items.push(...(answer?.items ?? []));
    next = answer?.metadata?.continue || undefined;
  }
  return items;
}

/** Argo CD's own hard refresh: the annotation its controller acts on and then removes. */
async function markForHardRefresh(kube: KubeApi, namespace: string, name: string): Promise<void> {
  const apiPath = `/apis/argoproj.io/v1alpha1/namespaces/${encodeURIComponent(namespace)}/applications/${encodeURIComponent(name)}`;
  const patch = { metadata: { annotations: { [RECORD.refreshAnnotation]: 'hard' } } };
  const { status, body } = await kube.request('PATCH', apiPath, { contentType: 'application/merge-patch+json', json: patch });
  if (status !== 200) throw apiError(status, body, `marking Application ${namespace}/${name} for a hard refresh`, 'patch');
}

function apiError(status: number, body: unknown, doing: string, verb: string): VaultfillError {
  const message = (body as { message?: unknown } | undefined)?.message;
  const hint = status === 401 || status === 403 ? `; the refresher's service account needs ${verb} (examples/argocd/refresher.yaml)` : '';
  return new VaultfillError('KUBE_API_ERROR', `${doing}: Kubernetes API answered HTTP ${status}${typeof message === 'string' ? ` (${message})` : ''}${hint}`);
}

/** Waits `ms`; true when `signal` ended the wait. */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', stop);
      resolve(false);
    }, ms);
    const stop = (): void => {
      clearTimeout(timer);
      resolve(true);
    };
    signal?.addEventListener('abort', stop, { once: true });
  });
}

/** `--interval`: a whole or decimal number with `ms`, `s`, `m` or `h` (seconds when bare). */
export function parseInterval(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!match) return undefined;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] ?? 's'] ?? 1000;
  const ms = Number(match[1]) * unit;
  return ms >= 100 && ms <= 24 * 3_600_000 ? Math.round(ms) : undefined;
}

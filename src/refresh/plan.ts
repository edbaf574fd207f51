/**
 * What a refresher round decides, without I/O: which records belong to which Application, which
 * metadata paths to read (each once, however many Applications recorded it), and which
 * Applications recorded a version older than Vault's current one.
 *
 * A record counts only for an Application it cannot have been forged for: its annotation names
 * the Application (as Argo CD names it to the plugin: `name`, or `<namespace>_<name>` for an
 * Application outside Argo CD's namespace), it is named as the sidecar names it, and it lives in
 * the Application's destination namespace, in this cluster. A repository rendering into one
 * namespace can so only make records for the Applications deploying there.
 */
import { RECORD } from '../constants.js';
import { metadataPath, parseVersions, recordName } from './record.js';

/** The fields of a ConfigMap the refresher reads. */
export interface RecordObject {
  readonly metadata?: { readonly name?: string; readonly namespace?: string; readonly annotations?: Readonly<Record<string, string>> | null };
  readonly data?: Readonly<Record<string, string>> | null;
}

/** The fields of an Application the refresher reads. */
export interface ApplicationObject {
  readonly metadata?: { readonly name?: string; readonly namespace?: string };
  readonly spec?: { readonly destination?: { readonly namespace?: string; readonly server?: string; readonly name?: string } | null } | null;
}

export interface Matched {
  /** `namespace/name` of the Application. */
  readonly app: string;
  readonly namespace: string;
  readonly name: string;
  /** `namespace/name` of its record. */
  readonly record: string;
  /** The record's `data.versions` as written: what the refresher remembers having acted on. */
  readonly text: string;
  readonly versions: ReadonlyMap<string, number>;
}

export interface Matching {
  readonly matched: readonly Matched[];
  /** Records that belong to no Application (or are malformed): `namespace/name: why`. */
  readonly unmatched: readonly string[];
}

/**
 * `argocdNamespace`: where Argo CD's own Applications live; Argo CD names those to a plugin
 * without their namespace.
 */
export function matchRecords(records: readonly RecordObject[], applications: readonly ApplicationObject[], argocdNamespace: string): Matching {
  const matched: Matched[] = [];
  const unmatched: string[] = [];
  const byQualifiedName = new Map<string, ApplicationObject>();
  for (const app of applications) {
    const { name, namespace } = app.metadata ?? {};
    if (!name || !namespace) continue;
    byQualifiedName.set(`${namespace}_${name}`, app);
    if (namespace === argocdNamespace) byQualifiedName.set(name, app);
  }
  for (const record of records) {
    const { name = '', namespace = '' } = record.metadata ?? {};
    const where = `${namespace}/${name}`;
    const appName = record.metadata?.annotations?.[RECORD.applicationAnnotation];
    const app = appName === undefined ? undefined : byQualifiedName.get(appName);
    const versions = parseVersions(record.data?.[RECORD.versionsKey]);
    if (appName === undefined || !app) unmatched.push(`${where}: no Application ${appName ?? `(no ${RECORD.applicationAnnotation} annotation)`}`);
    else if (name !== recordName(appName)) unmatched.push(`${where}: not the record name of ${appName} (${recordName(appName)})`);
    else if (!inCluster(app)) unmatched.push(`${where}: ${appName} deploys to another cluster`);
    else if (namespace !== app.spec?.destination?.namespace) unmatched.push(`${where}: not in the destination namespace of ${appName}`);
    else if (!versions) unmatched.push(`${where}: ${RECORD.versionsKey} is not a JSON object of KV v2 data paths and versions`);
    else {
      const { name: appShortName = '', namespace: appNamespace = '' } = app.metadata ?? {};
      matched.push({ app: `${appNamespace}/${appShortName}`, namespace: appNamespace, name: appShortName, record: where, text: record.data?.[RECORD.versionsKey] ?? '', versions });
    }
  }
  return { matched, unmatched };
}

/**
 * Whether the Application deploys to the cluster the refresher reads records in: Argo CD's
 * in-cluster destination. A record for an Application deploying elsewhere lives there, so one
 * found here was not written by its render.
 */
function inCluster(app: ApplicationObject): boolean {
  const destination = app.spec?.destination;
  return destination?.server === IN_CLUSTER_SERVER || (!destination?.server && destination?.name === 'in-cluster');
}

const IN_CLUSTER_SERVER = 'https://kubernetes.default.svc';

/** Every metadata path the matched records name, once each, in order. */
export function metadataPaths(matched: readonly Matched[]): string[] {
  const paths = new Set<string>();
  for (const m of matched) for (const path of m.versions.keys()) paths.add(metadataPath(path) as string);
  return [...paths].sort();
}

export interface Stale {
  readonly matched: Matched;
  /** The recorded paths Vault has a newer version of: path, recorded, current. */
  readonly paths: ReadonlyArray<{ readonly path: string; readonly recorded: number; readonly current: number }>;
  /** What the refresher remembers it marked the Application for: the record and Vault's versions. */
  readonly key: string;
}

/** The Applications whose record holds a version older than Vault's current one (`current`: by metadata path; a path that could not be read is skipped). */
export function staleApplications(matched: readonly Matched[], current: ReadonlyMap<string, number>): Stale[] {
  const stale: Stale[] = [];
  for (const m of matched) {
    const paths = [...m.versions]
      .map(([path, recorded]) => ({ path, recorded, current: current.get(metadataPath(path) as string) }))
      .filter((p): p is { path: string; recorded: number; current: number } => p.current !== undefined && p.current > p.recorded);
    if (paths.length) stale.push({ matched: m, paths, key: `${m.text} ${paths.map((p) => `${p.path}#${p.current}`).join(' ')}` });
  }
  return stale;
}

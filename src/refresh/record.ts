/**
 * The record of what a render read (AVP_RECORD), the one thing the sidecar and the refresher
 * share: a ConfigMap `vaultfill-record-<app>` in the Application's destination namespace,
 * labelled `vaultfill.io/record: "true"`, whose `data.versions` is a JSON object of the KV v2
 * data paths read at their latest version and the version Vault answered. Never a value, nor
 * anything derived from one. Pure: no I/O.
 *
 * Why a ConfigMap and not an annotation on each rendered resource: the refresher would then
 * need to read every kind an Application renders, Secrets included (and `get secrets` reads
 * every value); a ConfigMap needs `list configmaps` and nothing else. The sidecar writes it to
 * stdout like any manifest: Argo CD applies it, so the sidecar gains no Kubernetes access.
 */
import { RECORD } from '../constants.js';
import { sha256Hex } from '../hash.js';

export interface RecordedApplication {
  /** ARGOCD_APP_NAME: the Application's name, `<namespace>_<name>` for one outside Argo CD's namespace. */
  readonly name: string;
  /** ARGOCD_APP_NAMESPACE: the Application's destination namespace. */
  readonly namespace: string;
}

/** Versions by KV v2 data path (`secret/data/app` → 3). */
export type Versions = ReadonlyMap<string, number>;

// ConfigMap names are DNS-1123 subdomains; 63 keeps them usable as label values too.
const MAX_NAME = 63;
const HASH_LENGTH = 8;

/**
 * `vaultfill-record-<app>`: the app name lower-cased, `_` (Argo CD's `<namespace>_<name>`) and
 * anything else a name may not hold turned into `-`; a long name is cut and given a short hash
 * of the whole, so two long names never meet.
 */
export function recordName(appName: string): string {
  const safe = appName.toLowerCase().replace(/[^a-z0-9-]/g, '-');
  const whole = `${RECORD.namePrefix}${safe}`;
  if (safe === appName && whole.length <= MAX_NAME && /[a-z0-9]$/.test(safe)) return whole;
  const cut = safe.slice(0, MAX_NAME - RECORD.namePrefix.length - HASH_LENGTH - 1).replace(/-+$/, '');
  return `${RECORD.namePrefix}${cut ? `${cut}-` : ''}${sha256Hex(appName).slice(0, HASH_LENGTH)}`;
}

/**
 * The KV v2 metadata path of a data path: the first `data` segment after the mount's first
 * segment becomes `metadata` (`secret/data/app` → `secret/metadata/app`, `kv/team/data/x` →
 * `kv/team/metadata/x`). Undefined when there is none. The Vault backend records only paths for
 * which this is the mount's own metadata path.
 */
export function metadataPath(dataPath: string): string | undefined {
  const segments = dataPath.split('/');
  const at = segments.indexOf('data', 1);
  if (at < 1 || at === segments.length - 1) return undefined;
  segments[at] = 'metadata';
  return segments.join('/');
}

/** The record as one manifest: YAML, or one line of JSON for a render Argo CD reads as JSON. */
export function recordManifest(app: RecordedApplication, versions: Versions, json: boolean): string {
  const sorted = Object.fromEntries([...versions].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const manifest = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: recordName(app.name),
      namespace: app.namespace,
      labels: { [RECORD.label]: 'true' },
      annotations: { [RECORD.applicationAnnotation]: app.name },
    },
    data: { [RECORD.versionsKey]: JSON.stringify(sorted) },
  };
  if (json) return `${JSON.stringify(manifest)}\n`;
  // Every scalar as a JSON string: a double-quoted scalar every YAML reader reads alike.
  const q = JSON.stringify;
  const m = manifest.metadata;
  return [
    'apiVersion: v1',
    'kind: ConfigMap',
    'metadata:',
    `  name: ${q(m.name)}`,
    `  namespace: ${q(m.namespace)}`,
    '  labels:',
    `    ${q(RECORD.label)}: "true"`,
    '  annotations:',
    `    ${q(RECORD.applicationAnnotation)}: ${q(app.name)}`,
    'data:',
    `  ${RECORD.versionsKey}: ${q(manifest.data[RECORD.versionsKey])}`,
    '',
  ].join('\n');
}

/**
 * Adds the record to a render's output pieces, leaving every piece as it is. Argo CD reads the
 * output with Kubernetes' YAML-or-JSON decoder, which picks JSON when the stream starts with `{`:
 * then the record is one more JSON object after a line break. Otherwise it is the first YAML
 * document, followed by `---` (`...` before a directive) unless the render opens with its own:
 * appended at the end it would need a line break a render without a final one does not have,
 * and that line break would change a block scalar ending the last document.
 */
export function withRecord(output: readonly string[], app: RecordedApplication, versions: Versions): string[] {
  const head = headOf(output);
  if (head.trimStart().startsWith('{')) {
    const last = output.at(-1) ?? '';
    return [...output, `${last.endsWith('\n') ? '' : '\n'}${recordManifest(app, versions, true)}`];
  }
  const opening = /^[ \t]*[^\s#].*$/m.exec(head)?.[0] ?? '';
  const separator = /^---(?:[ \t\r]|$)/.test(opening) ? '' : opening.startsWith('%') ? '...\n' : '---\n';
  return [`${recordManifest(app, versions, false)}${separator}`, ...output];
}

/** The output's first 64 KiB: where its first line that is not blank or a comment is, in any real render. */
function headOf(output: readonly string[]): string {
  let head = '';
  for (const piece of output) {
    head += piece.slice(0, HEAD - head.length);
    if (head.length >= HEAD) break;
  }
  return head;
}

const HEAD = 1 << 16;

/** `data.versions` of a record, or undefined when it is not a JSON object of positive whole numbers. */
export function parseVersions(text: string | undefined): Map<string, number> | undefined {
  if (text === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined;
  const versions = new Map<string, number>();
  for (const [path, version] of Object.entries(parsed)) {
    if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1 || metadataPath(path) === undefined) return undefined;
    versions.set(path, version);
  }
  return versions;
}

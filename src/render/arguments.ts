/**
 * Which arguments an Application may hand to `helm template` and `kustomize build` (issue 13).
 *
 * Whoever writes an Application, or pushes to its repository, is not trusted with the sidecar:
 * its Vault identity, its files, its shell. Passed straight through, their arguments gave all
 * three (`--post-renderer bash`, `--set-file k=/tmp/.cache/vaultfill/…`, `--load-restrictor
 * LoadRestrictionsNone`, `--helm-command`, …). So every argument goes through a table of the
 * flags that only shape the render; anything else — an unknown flag, a positional, `--`, a
 * combined short flag — is refused before any tool runs. The tables are the one place that says
 * what is allowed; docs/argo-cd.md lists the same flags (a test holds the two together).
 *
 * Pure: files named by arguments are returned for src/render/checkout.ts to check.
 */
import { VaultfillError } from '../errors.js';

/** A flag without a value (`--x`, or `--x=true` / `--x=false`), or one that takes a value. */
export type Flag =
  | { readonly takes: 'nothing' }
  | {
      readonly takes: 'value';
      /** The only values accepted. */
      readonly only?: readonly string[];
      /** The value names files: a CSV list (helm's `--values`), or `key=path` pairs (`--set-file`). */
      readonly files?: 'list' | 'pairs';
    };

export interface FlagTable {
  /** Long name (without `--`) → what it takes. */
  readonly allowed: Readonly<Record<string, Flag>>;
  /** Single letter → long name, for the allowed flags that have a short form. */
  readonly short: Readonly<Record<string, string>>;
  /** Why some well-known flags are refused; every flag not in `allowed` is refused. */
  readonly refused: Readonly<Record<string, string>>;
}

const SWITCH: Flag = { takes: 'nothing' };
const VALUE: Flag = { takes: 'value' };

const SIDECAR_FILE = "names a file of the sidecar, not of the repository";
const CHART_DOWNLOAD = "is for downloading a chart; the chart is the Application's directory";
const CLUSTER = "is for contacting a cluster with the sidecar's credentials; a render never does";

/** `helm template` (helm v3.22). */
export const HELM_FLAGS: FlagTable = {
  allowed: {
    set: VALUE,
    'set-string': VALUE,
    'set-json': VALUE,
    'set-literal': VALUE,
    values: { takes: 'value', files: 'list' },
    'set-file': { takes: 'value', files: 'pairs' },
    'api-versions': VALUE,
    'kube-version': VALUE,
    namespace: VALUE,
    'show-only': VALUE,
    'include-crds': SWITCH,
    'skip-crds': SWITCH,
    'skip-tests': SWITCH,
    'no-hooks': SWITCH,
    'is-upgrade': SWITCH,
    'skip-schema-validation': SWITCH,
  },
  short: { f: 'values', a: 'api-versions', n: 'namespace', s: 'show-only' },
  refused: {
    'post-renderer': 'runs a program in the sidecar',
    'post-renderer-args': 'is for --post-renderer, which runs a program in the sidecar',
    'output-dir': 'writes files in the sidecar',
    // helm renders a name template with sprig's `env`: it would read the sidecar's environment.
    'name-template': 'can read the sidecar\'s environment; set the release name with the release-name parameter',
    'generate-name': 'set the release name with the release-name parameter',
    'release-name': 'only shapes --output-dir paths; set the release name with the release-name parameter',
    'dependency-update': "fetches dependencies at render time; the plugin's init step builds them",
    'enable-dns': 'lets templates make DNS lookups from the sidecar',
    validate: CLUSTER,
    'dry-run': CLUSTER,
    debug: "prints the sidecar's paths and stack traces into Argo CD's messages; debug a chart locally",
    repo: CHART_DOWNLOAD,
    version: CHART_DOWNLOAD,
    devel: CHART_DOWNLOAD,
    verify: CHART_DOWNLOAD,
    keyring: SIDECAR_FILE,
    username: CHART_DOWNLOAD,
    password: CHART_DOWNLOAD,
    'pass-credentials': CHART_DOWNLOAD,
    'plain-http': CHART_DOWNLOAD,
    'insecure-skip-tls-verify': CHART_DOWNLOAD,
    'ca-file': SIDECAR_FILE,
    'cert-file': SIDECAR_FILE,
    'key-file': SIDECAR_FILE,
    'registry-config': SIDECAR_FILE,
    'repository-config': SIDECAR_FILE,
    'repository-cache': SIDECAR_FILE,
    kubeconfig: CLUSTER,
    'kube-context': CLUSTER,
    'kube-token': CLUSTER,
    'kube-as-user': CLUSTER,
    'kube-as-group': CLUSTER,
    'kube-apiserver': CLUSTER,
    'kube-ca-file': CLUSTER,
    'kube-insecure-skip-tls-verify': CLUSTER,
    'kube-tls-server-name': CLUSTER,
  },
};

/** `kustomize build` (kustomize v5.8) and `kubectl kustomize`. */
export const KUSTOMIZE_FLAGS: FlagTable = {
  allowed: {
    // The Helm chart inflator runs the image's helm: --helm-command is refused.
    'enable-helm': SWITCH,
    'helm-api-versions': VALUE,
    'helm-kube-version': VALUE,
    'load-restrictor': { takes: 'value', only: ['LoadRestrictionsRootOnly'] },
    reorder: { takes: 'value', only: ['legacy', 'none'] },
    'enable-managedby-label': SWITCH,
  },
  short: {},
  refused: {
    'enable-alpha-plugins': 'runs plugin programs in the sidecar',
    'enable-exec': 'runs programs in the sidecar',
    'helm-command': 'runs a program of your choice in the sidecar; --enable-helm uses the image\'s helm',
    'helm-debug': "prints the sidecar's paths and stack traces into Argo CD's messages; debug locally",
    mount: 'exposes sidecar files to functions',
    network: 'gives functions network access from the sidecar',
    'network-name': 'is for functions, which are not allowed',
    env: "passes the sidecar's environment to functions",
    'as-current-user': 'is for functions, which are not allowed',
    output: 'writes files in the sidecar',
    kubeconfig: CLUSTER,
  },
};

/** One argument and where it came from, e.g. `helm-args[2]`. */
export interface Argument {
  readonly value: string;
  readonly where: string;
}

/** A file an argument names, for checkout.ts: `flag` is the long flag, `where` the argument. */
export interface FileReference {
  readonly path: string;
  readonly where: string;
  readonly flag: string;
}

/**
 * Checks one source's arguments (one parameter, or HELM_ARGS) against a table. A source must
 * be complete on its own: a flag's value is the next item of the same source, never of the next.
 * The first refused argument ends the source (what follows it cannot be read with certainty).
 */
export function checkArguments(items: readonly Argument[], table: FlagTable): { files: FileReference[]; errors: VaultfillError[] } {
  const files: FileReference[] = [];
  const refuse = (item: Argument, reason: string) => ({ files, errors: [refusal(item, reason, table)] });
  for (let i = 0; i < items.length; i++) {
    const item = items[i] as Argument;
    const arg = item.value;
    let name: string;
    let inline: string | undefined;
    if (arg === '--') return refuse(item, 'ends the flags, and what follows would be read as a chart or a directory');
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      inline = eq < 0 ? undefined : arg.slice(eq + 1);
    } else if (/^-[A-Za-z]$/.test(arg)) {
      const long = table.short[arg.slice(1)];
      if (!long) return refuse(item, 'is not an allowed short flag');
      name = long;
    } else if (arg.startsWith('-') && arg.length > 1) {
      return refuse(item, 'combined or attached short flags are not allowed; give -f and its value as two items');
    } else {
      return refuse(item, 'is not a flag: every item is a flag or the value right after one');
    }
    const flag = table.allowed[name];
    if (!flag) return refuse(item, table.refused[name] ?? 'is not a known render flag');
    if (flag.takes === 'nothing') {
      if (inline !== undefined && inline !== 'true' && inline !== 'false') return refuse(item, 'takes no value (or =true / =false)');
      continue;
    }
    let value: Argument;
    if (inline !== undefined) {
      value = { value: inline, where: item.where };
    } else {
      const next = items[i + 1];
      if (!next) return refuse(item, 'needs a value in the next item');
      value = next;
      i++;
    }
    if (flag.only && !flag.only.includes(value.value)) {
      return refuse({ value: `--${name} ${value.value}`, where: item.where }, `--${name} accepts only ${flag.only.join(', ')}`);
    }
    if (flag.files) {
      const paths = flag.files === 'list' ? valuesList(value.value) : setFilePairs(value.value);
      if (typeof paths === 'string') return refuse(value, paths);
      for (const path of paths) files.push({ path, where: value.where, flag: name });
    }
  }
  return { files, errors: [] };
}

/**
 * The files of a `--values` argument. helm reads it as one CSV record (pflag's string slice);
 * quotes and line breaks, where CSV and a plain split differ, are refused rather than parsed.
 */
export function valuesList(value: string): string[] | string {
  if (/["\r\n]/.test(value)) return 'a values list with quotes or line breaks is not allowed';
  const files = value.split(',');
  if (files.some((f) => f === '')) return 'every entry of a values list must name a file';
  return files;
}

/**
 * The files of a `--set-file` argument: `key=path[,key=path…]`. helm's strvals grammar has
 * escapes, list indexes and `{a,b}` lists of files; only the plain form is accepted, so the
 * paths read here are exactly the ones helm reads.
 */
export function setFilePairs(value: string): string[] | string {
  const paths: string[] = [];
  for (const pair of value.split(',')) {
    const match = /^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*=([^\\{}]+)$/.exec(pair);
    if (!match) return '--set-file takes key=path pairs: a dotted key of letters, digits, _ and -, and a path without , \\ { or }';
    paths.push(match[1] as string);
  }
  return paths;
}

/** helm's own rule for release names (chartutil.ValidateReleaseName), so one never reads as a flag. */
export function releaseNameProblem(name: string): string | undefined {
  if (name.length > 53) return 'is longer than 53 characters';
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(name)) {
    return 'is not a valid helm release name (lower-case letters, digits, - and ., starting and ending with a letter or digit)';
  }
  return undefined;
}

/** HELM_ARGS as argocd-vault-plugin setups write it: words separated by spaces, tabs or line breaks. */
export function splitWords(text: string): string[] {
  return text.split(/[ \t\n]+/).filter((word) => word !== '');
}

export function refusal(item: Argument, reason: string, table?: FlagTable): VaultfillError {
  const allowed = table ? `; allowed: ${allowedList(table)}` : '';
  return new VaultfillError('RENDER_ARGUMENT', `${item.where} ${quote(item.value)} is not allowed: ${reason}${allowed}`);
}

/** `--set, --values (-f), …`, for messages (docs/argo-cd.md lists the same). */
export function allowedList(table: FlagTable): string {
  const shorts = new Map(Object.entries(table.short).map(([letter, long]) => [long, letter]));
  return Object.keys(table.allowed)
    .map((name) => (shorts.has(name) ? `--${name} (-${shorts.get(name)})` : `--${name}`))
    .join(', ');
}

/** A value as JSON text (control characters escaped), cut to a readable length. */
export function quote(value: string): string {
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
}

/**
 * Settings, read once and frozen. Precedence: `ARGOCD_ENV_X` (from the Application, only for
 * the settings it may set) > `X` in the environment > `-c/--config-path` file (YAML, JSON or
 * dotenv) > `-s/--secret-name` Kubernetes Secret > defaults. Nothing else reads the environment.
 *
 * Whoever writes an Application is not trusted with the sidecar's Vault identity: Argo CD
 * prefixes plugin env with ARGOCD_ENV_ so it cannot set the sidecar's variables, and vaultfill
 * keeps it that way. An `ARGOCD_ENV_X` for any other setting is an error naming it, before
 * anything is read or sent: never a silent override, never a silent ignore.
 */
import { readFileSync } from 'node:fs';
import { APPLICATION_SETTINGS, ARGOCD_ENV_PREFIX, DEFAULTS, FALSE_WORDS, SETTING, SETTING_NAMES, TRUE_WORDS, WIDENABLE, type SettingName } from './constants.js';
import { VaultfillError, VaultfillErrors } from './errors.js';
import { compilePathPattern, type PathPattern } from './path-pattern.js';
import { parseYaml } from './yaml.js';

export type Env = Readonly<Record<string, string | undefined>>;
export type BackendType = 'vault' | 'file';

export interface Config {
  readonly type: BackendType | undefined;
  readonly kvVersion: 1 | 2;
  readonly pathValidation: PathPattern | undefined;
  readonly concurrency: number;
  readonly secretsFile: string | undefined;
  /**
   * AVP_RECORD: write the record of the KV v2 versions read (src/refresh/record.ts), for the
   * Application Argo CD names in ARGOCD_APP_NAME / ARGOCD_APP_NAMESPACE (Argo CD's own variables,
   * not an Application's ARGOCD_ENV_; undefined when either is missing).
   */
  readonly record: { readonly application: { readonly name: string; readonly namespace: string } | undefined } | undefined;
  /** A raw setting after precedence, for the backend and auth method that need it. */
  setting(name: SettingName): string | undefined;
  /** Which sources were consulted and which settings were found there (names only, never values). */
  readonly provenance: string;
}

export interface ConfigInput {
  readonly env: Env;
  readonly configPath?: string | undefined;
  readonly secretName?: string | undefined;
  /** `--secrets-file`: implies `AVP_TYPE=file` when no type is set. */
  readonly secretsFile?: string | undefined;
  /** Reads `-s [namespace:]name` from the Kubernetes API. */
  readonly readSecret?: (namespace: string, name: string) => Promise<Record<string, string>>;
}

type Layer = { readonly label: string; readonly values: ReadonlyMap<string, string> };

export async function loadConfig(input: ConfigInput): Promise<Config> {
  const layers: Layer[] = [];
  const known = (name: string): boolean => SETTING_NAMES.includes(name);
  const argocd = new Map<string, string>();
  const plain = new Map<string, string>();
  for (const [name, value] of Object.entries(input.env)) {
    if (value === undefined) continue;
    if (name.startsWith(ARGOCD_ENV_PREFIX) && known(name.slice(ARGOCD_ENV_PREFIX.length))) argocd.set(name.slice(ARGOCD_ENV_PREFIX.length), value);
    else if (known(name)) plain.set(name, value);
  }
  layers.push({ label: 'environment', values: plain });
  if (input.configPath) layers.push({ label: `config file ${input.configPath}`, values: filterKnown(readConfigFile(input.configPath), known) });
  if (input.secretName) {
    const [namespace, name] = input.secretName.includes(':') ? input.secretName.split(':', 2) : [DEFAULTS.secretNamespace, input.secretName];
    if (!namespace || !name) throw new VaultfillError('USAGE', '--secret-name takes [namespace:]name');
    if (!input.readSecret) throw new VaultfillError('CONFIG', '--secret-name needs the Kubernetes API');
    layers.push({ label: `Secret ${namespace}/${name}`, values: filterKnown(new Map(Object.entries(await input.readSecret(namespace, name))), known) });
  }
  layers.unshift({ label: 'ARGOCD_ENV_ variables', values: applicationLayer(argocd, layers) });

  const setting = (name: SettingName): string | undefined => {
    for (const layer of layers) {
      const value = layer.values.get(name);
      if (value !== undefined && value !== '') return value;
    }
    return undefined;
  };
  const errors: VaultfillError[] = [];
  const invalid = (name: string, what: string): void => {
    errors.push(new VaultfillError('CONFIG', `${name} ${what}`));
  };

  const secretsFile = input.secretsFile ?? setting(SETTING.secretsFile);
  const typeText = setting(SETTING.type) ?? (secretsFile ? 'file' : undefined);
  let type: BackendType | undefined;
  if (typeText === 'vault' || typeText === 'file') type = typeText;
  else if (typeText !== undefined) invalid(SETTING.type, `"${typeText}" is not supported; use "vault" or "file"`);

  const kvText = setting(SETTING.kvVersion) ?? String(DEFAULTS.kvVersion);
  if (kvText !== '1' && kvText !== '2') invalid(SETTING.kvVersion, 'must be 1 or 2');

  let pathValidation: PathPattern | undefined;
  const pattern = setting(SETTING.pathValidation);
  if (pattern !== undefined) {
    try {
      pathValidation = compilePathPattern(pattern);
    } catch (error) {
      invalid(SETTING.pathValidation, `is not a Go (RE2) regular expression: ${error instanceof Error ? error.message : 'invalid'}`);
    }
  }
  const concurrencyText = setting(SETTING.concurrency) ?? String(DEFAULTS.concurrency);
  const concurrency = Number(concurrencyText);
  if (!/^\d+$/.test(concurrencyText) || concurrency < 1 || concurrency > 256) invalid(SETTING.concurrency, 'must be a whole number from 1 to 256');
  const recordText = setting(SETTING.record);
  if (recordText !== undefined && !TRUE_WORDS.has(recordText) && !FALSE_WORDS.has(recordText)) invalid(SETTING.record, 'must be true or false');
  if (errors.length) throw new VaultfillErrors(errors);
  const appName = input.env['ARGOCD_APP_NAME'];
  const appNamespace = input.env['ARGOCD_APP_NAMESPACE'];
  const record =
    recordText !== undefined && TRUE_WORDS.has(recordText)
      ? { application: appName && appNamespace ? { name: appName, namespace: appNamespace } : undefined }
      : undefined;

  const provenance = layers
    .map((layer) => `${layer.label}: ${layer.values.size ? [...layer.values.keys()].sort().join(', ') : 'none'}`)
    .join('; ');
  return Object.freeze({
    type,
    kvVersion: kvText === '1' ? 1 : 2,
    pathValidation,
    concurrency,
    secretsFile,
    record,
    setting,
    provenance: `settings consulted (names found): ${provenance}`,
  } satisfies Config);
}

/** The Application's settings, once each is checked against what the operator's layers allow. */
function applicationLayer(argocd: ReadonlyMap<string, string>, operator: readonly Layer[]): Map<string, string> {
  const listed = operator.map((layer) => layer.values.get(SETTING.appSettings)).find((v) => v !== undefined && v !== '');
  const errors: VaultfillError[] = [];
  const widened = (listed ?? '').split(/[\s,]+/).filter(Boolean);
  for (const name of widened) {
    if (!WIDENABLE.includes(name as SettingName)) {
      errors.push(new VaultfillError('CONFIG', `${SETTING.appSettings} lists ${name}, which Applications may never set; it may list ${WIDENABLE.join(', ')}`));
    }
  }
  const allowed = new Set<string>([...APPLICATION_SETTINGS, ...widened]);
  for (const name of argocd.keys()) {
    if (allowed.has(name)) continue;
    const how = WIDENABLE.includes(name as SettingName)
      ? `the operator can let Applications choose it by adding ${name} to ${SETTING.appSettings} in the sidecar's settings`
      : 'no setting lets an Application choose it';
    errors.push(
      new VaultfillError('CONFIG', `${ARGOCD_ENV_PREFIX}${name}: an Application may not set ${name}; it belongs to the sidecar (its environment, -c file or -s Secret), and ${how}`),
    );
  }
  if (errors.length) throw new VaultfillErrors(errors);
  return new Map(argocd);
}

function filterKnown(values: ReadonlyMap<string, string>, known: (name: string) => boolean): Map<string, string> {
  return new Map([...values].filter(([name]) => known(name)));
}

/** A YAML or JSON map of settings, or dotenv lines (`NAME=value`). */
function readConfigFile(file: string): Map<string, string> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new VaultfillError('CONFIG', `cannot read config file ${file} (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch {
    doc = undefined;
  }
  if (doc !== null && typeof doc === 'object' && !Array.isArray(doc)) {
    return new Map(Object.entries(doc).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
  }
  const values = new Map<string, string>();
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!match) throw new VaultfillError('CONFIG', `config file ${file}:${i + 1}: expected NAME=value (or a YAML/JSON map)`);
    const value = (match[2] ?? '').replace(/^(['"])(.*)\1$/, '$2');
    values.set(match[1] ?? '', value);
  }
  return values;
}

/** Annotation names, setting names and defaults: the one place that spells them. */

export const ANNOTATION = {
  path: 'avp.kubernetes.io/path',
  ignore: 'avp.kubernetes.io/ignore',
  removeMissing: 'avp.kubernetes.io/remove-missing',
  secretVersion: 'avp.kubernetes.io/secret-version',
  kvVersion: 'avp.kubernetes.io/kv-version',
} as const;

/**
 * Settings read from the environment, a -c file or a -s Secret: the sidecar operator's sources.
 * An Application's plugin env reaches the sidecar as `ARGOCD_ENV_<NAME>`; it may set only
 * APPLICATION_SETTINGS, plus what the operator lists in AVP_APP_SETTINGS out of WIDENABLE.
 */
export const SETTING = {
  type: 'AVP_TYPE',
  authType: 'AVP_AUTH_TYPE',
  kvVersion: 'AVP_KV_VERSION',
  pathValidation: 'AVP_PATH_VALIDATION',
  concurrency: 'AVP_CONCURRENCY',
  secretsFile: 'AVP_SECRETS_FILE',
  k8sRole: 'AVP_K8S_ROLE',
  k8sMountPath: 'AVP_K8S_MOUNT_PATH',
  mountPath: 'AVP_MOUNT_PATH',
  k8sTokenPath: 'AVP_K8S_TOKEN_PATH',
  roleId: 'AVP_ROLE_ID',
  secretId: 'AVP_SECRET_ID',
  username: 'AVP_USERNAME',
  password: 'AVP_PASSWORD',
  githubToken: 'AVP_GITHUB_TOKEN',
  vaultAddr: 'VAULT_ADDR',
  vaultAgentAddr: 'VAULT_AGENT_ADDR',
  vaultProxyAddr: 'VAULT_PROXY_ADDR',
  vaultHttpProxy: 'VAULT_HTTP_PROXY',
  vaultMaxRetries: 'VAULT_MAX_RETRIES',
  vaultToken: 'VAULT_TOKEN',
  vaultNamespace: 'VAULT_NAMESPACE',
  vaultCaCert: 'VAULT_CACERT',
  vaultCaPath: 'VAULT_CAPATH',
  vaultClientCert: 'VAULT_CLIENT_CERT',
  vaultClientKey: 'VAULT_CLIENT_KEY',
  vaultSkipVerify: 'VAULT_SKIP_VERIFY',
  vaultTlsServerName: 'VAULT_TLS_SERVER_NAME',
  vaultClientTimeout: 'VAULT_CLIENT_TIMEOUT',
  appSettings: 'AVP_APP_SETTINGS',
  nonKvMounts: 'AVP_NON_KV_MOUNTS',
  /** Sidecar only: append the record of the KV v2 versions a render read (src/refresh/record.ts). */
  record: 'AVP_RECORD',
} as const;

export type SettingName = (typeof SETTING)[keyof typeof SETTING];

/** Every setting vaultfill reads, so config sources can be filtered to known names. */
export const SETTING_NAMES: readonly string[] = Object.values(SETTING);

export const ARGOCD_ENV_PREFIX = 'ARGOCD_ENV_';

/** What an Application may always set: it shapes which secret is read, within the sidecar's identity. */
export const APPLICATION_SETTINGS: readonly SettingName[] = [SETTING.kvVersion];

/**
 * What the operator may let Applications set (AVP_APP_SETTINGS): which role, mount or namespace
 * of the sidecar's own Vault is used. Never the address, credentials, credential files, TLS,
 * the backend, path validation, mounts allowed, cache or concurrency: with those an Application
 * could send the sidecar's credentials elsewhere or read what the operator walled off.
 */
export const WIDENABLE: readonly SettingName[] = [SETTING.k8sRole, SETTING.k8sMountPath, SETTING.mountPath, SETTING.vaultNamespace];

export const DEFAULTS = {
  kvVersion: 2,
  concurrency: 16,
  /** Vault's client retries twice; vaultfill has retried three times since its first release. */
  maxRetries: 3,
  k8sMountPath: 'auth/kubernetes',
  approleMountPath: 'auth/approle',
  k8sTokenPath: '/var/run/secrets/kubernetes.io/serviceaccount/token',
  secretNamespace: 'argocd',
} as const;

/**
 * The record of what a render read (AVP_RECORD) and the refresher that acts on it (`vaultfill
 * refresh`): names Argo CD and the refresher agree on.
 */
export const RECORD = {
  namePrefix: 'vaultfill-record-',
  label: 'vaultfill.io/record',
  applicationAnnotation: 'vaultfill.io/application',
  versionsKey: 'versions',
  /** Argo CD's own annotation: the next reconciliation regenerates the manifests, bypassing caches. */
  refreshAnnotation: 'argocd.argoproj.io/refresh',
  /** `vaultfill refresh --interval` @default 60 s */
  defaultIntervalMs: 60_000,
} as const;

/** Values AVP (Go's strconv.ParseBool) accepts as booleans in annotations. */
export const TRUE_WORDS: ReadonlySet<string> = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
export const FALSE_WORDS: ReadonlySet<string> = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

/** Kept equal to package.json's version by a test. */
export const VERSION = '0.1.0';

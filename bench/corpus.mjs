// Deterministic benchmark corpora for `vaultfill generate -` (seeded PRNG, no Date/Math.random).
//
//   import { secrets, denseCorpus, realisticCorpus } from './corpus.mjs'
//   node bench/corpus.mjs [outDir]      -> writes b1.yaml / b2.yaml and prints their stats
//
// B1 "dense":      5,000 documents (~3 MB), every one with placeholders (~11,000 over 500
//                  secrets): inline <path:…>, annotation-generic <key>, base64 Secret data,
//                  `| base64encode`, `| jsonPath {.a}`, `#version`.
// B2 "realistic":  ~10 MB: large CRDs (long descriptions, some with `<`), ~1,000 workloads
//                  with Services/ServiceAccounts/ConfigMaps, ~10 % of documents with placeholders.
//
// Every generator returns { text, documents, placeholders, pairs, canaries }: `pairs` is the set
// of distinct (path, version) reads the corpus needs (the Vault-read target), `canaries` maps
// a resource name to the values its data must hold after generation (the correctness guard).
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const SECRET_COUNT = 500;
/** Every VERSIONED_EVERY-th secret is written twice; placeholders then also read `#1`. */
export const VERSIONED_EVERY = 10;
export const MOUNT = 'secret';

/** mulberry32: tiny, fast, good enough for test data. */
export function prng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n) => Math.floor(next() * n),
    pick: (list) => list[Math.floor(next() * list.length)],
    chance: (p) => next() < p,
  };
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const B64 = `${ALNUM}+/`;
const rstr = (r, n, alphabet = ALNUM) => {
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[r.int(alphabet.length)];
  return s;
};
const pad = (i) => String(i).padStart(3, '0');
const b64 = (s) => Buffer.from(s, 'utf8').toString('base64');

/** KV path (without mount) and the API path placeholders use. */
export const secretName = (i) => `bench/app-${pad(i)}`;
export const secretPath = (i) => `${MOUNT}/data/${secretName(i)}`;
export const isVersioned = (i) => i % VERSIONED_EVERY === 0;

/**
 * The secrets to seed: [{ name, versions: [data v1, data v2?] }]. Values include characters
 * that need YAML quoting (`@`, `%`, `!` at the start) and a multi-line PEM-like `cert`.
 */
export function secrets(seed = 1) {
  const r = prng(seed);
  const out = [];
  for (let i = 0; i < SECRET_COUNT; i++) {
    const make = (generation) => {
      const special = r.pick(['!', '@', '%', '-', '_', '*', '^']);
      const base = rstr(r, 16);
      const at = r.int(17);
      return {
        username: `user-${pad(i)}${generation ? '' : '-old'}`,
        password: base.slice(0, at) + special + base.slice(at),
        token: rstr(r, 32, '0123456789abcdef'),
        config: JSON.stringify({ a: `alpha-${pad(i)}${generation ? '' : '-old'}`, b: { c: i, d: ['x', 'y'] } }),
        cert: `-----BEGIN CERTIFICATE-----\n${rstr(r, 64, B64)}\n${rstr(r, 64, B64)}\n${rstr(r, 40, B64)}==\n-----END CERTIFICATE-----\n`,
        port: String(5000 + i),
      };
    };
    out.push({ name: secretName(i), versions: isVersioned(i) ? [make(0), make(1)] : [make(1)] });
  }
  return out;
}

/** Final (latest) or given-version data of secret i, for canary expectations. */
function dataOf(all, i, version) {
  const versions = all[i].versions;
  return version === undefined ? versions[versions.length - 1] : versions[version - 1];
}

class Tracker {
  constructor(seedSecrets) {
    this.all = seedSecrets;
    this.pairs = new Set();
    this.placeholders = 0;
    this.canaries = {};
  }
  /** An inline placeholder for secret i (optionally versioned, with modifiers); records the read. */
  inline(i, key, { version, modifiers = '' } = {}) {
    this.pairs.add(`${secretPath(i)}#${version ?? ''}`);
    this.placeholders++;
    return `<path:${secretPath(i)}#${key}${version ? `#${version}` : ''}${modifiers ? ` | ${modifiers}` : ''}>`;
  }
  /** A generic <key> placeholder: the read is the annotation path's (latest) version. */
  generic(i, key, modifiers = '') {
    this.pairs.add(`${secretPath(i)}#`);
    this.placeholders++;
    return `<${key}${modifiers ? ` | ${modifiers}` : ''}>`;
  }
}

// ---------------------------------------------------------------------------------------------
// B1: dense
// ---------------------------------------------------------------------------------------------

const TEAMS = ['payments', 'search', 'identity', 'billing', 'catalog', 'orders', 'edge', 'data', 'ml', 'platform'];
/** Labels Argo CD / Helm put on everything (B1 documents carry them too). */
const commonLabels = (n, team) => `    app.kubernetes.io/instance: ${team}-${n}
    app.kubernetes.io/managed-by: argocd
    app.kubernetes.io/version: 2.14.${n % 10}
    argocd.argoproj.io/instance: ${team}
`;
const IMAGES = ['nginx:1.27.3', 'ghcr.io/acme/api:2.14.1', 'ghcr.io/acme/worker:2.14.1', 'redis:7.4.1', 'postgres:16.6', 'quay.io/acme/proxy:v0.9.3'];

function deploymentB1(r, t, n, a, b) {
  const team = r.pick(TEAMS);
  const versioned = isVersioned(a) && r.chance(0.5);
  const quote = r.chance(0.3) ? '"' : '';
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: svc-${n}
  namespace: ${team}
  labels:
    app.kubernetes.io/name: svc-${n}
    app.kubernetes.io/part-of: ${team}
${commonLabels(n, team)}spec:
  replicas: ${1 + r.int(5)}
  selector:
    matchLabels:
      app.kubernetes.io/name: svc-${n}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: svc-${n}
    spec:
      containers:
        - name: app
          image: ${r.pick(IMAGES)}
          ports:
            - containerPort: ${8000 + r.int(100)}
          env:
            - name: LOG_LEVEL
              value: info
            - name: DB_PASSWORD
              value: ${quote}${t.inline(a, 'password', versioned ? { version: 1 } : {})}${quote}
            - name: API_USER
              value: ${t.inline(b, 'username')}
          resources:
            requests:
              cpu: ${50 + r.int(400)}m
              memory: ${64 + r.int(448)}Mi
`;
}

function genericSecretB1(r, t, n, a) {
  const withCert = r.chance(0.5);
  return `apiVersion: v1
kind: Secret
metadata:
  name: creds-${n}
  labels:
${commonLabels(n, 'b1')}  annotations:
    avp.kubernetes.io/path: ${secretPath(a)}
type: Opaque
stringData:
  username: ${t.generic(a, 'username')}
  password: ${t.generic(a, 'password')}
  url: postgres://${t.generic(a, 'username')}@db-${n}.${r.pick(TEAMS)}.svc:5432/app
${withCert ? `  tls.crt: ${t.generic(a, 'cert')}\n` : ''}`;
}

function base64SecretB1(r, t, n, a, b) {
  return `apiVersion: v1
kind: Secret
metadata:
  name: token-${n}
  labels:
${commonLabels(n, 'b1')}  namespace: ${r.pick(TEAMS)}
type: Opaque
data:
  token: ${b64(t.inline(a, 'token'))}
  cert: ${t.inline(b, 'cert', { modifiers: 'base64encode' })}
  static: ${b64(`static-${n}`)}
`;
}

function configMapB1(r, t, n, a, b) {
  return `apiVersion: v1
kind: ConfigMap
metadata:
  name: conf-${n}
  labels:
${commonLabels(n, 'b1')}  namespace: ${r.pick(TEAMS)}
data:
  region: eu-west-${1 + r.int(3)}
  feature.flags: "a,b,c"
  alpha: ${t.inline(a, 'config', { modifiers: 'jsonPath {.a}' })}
  owner: "${t.inline(b, 'username')}"
`;
}

function ingressB1(r, t, n, a) {
  return `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web-${n}
  labels:
${commonLabels(n, 'b1')}  namespace: ${r.pick(TEAMS)}
  annotations:
    nginx.ingress.kubernetes.io/auth-type: basic
    example.com/owner: ${t.inline(a, 'username')}
spec:
  ingressClassName: nginx
  rules:
    - host: web-${n}.example.com
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: web-${n}
                port:
                  number: 80
`;
}

/** A ConfigMap/Secret pair whose final values the guard checks exactly. */
function canariesB1(t, n, a) {
  const v = isVersioned(a) ? 1 : undefined;
  const all = t.all;
  t.canaries[`canary-cm-${n}`] = {
    kind: 'ConfigMap',
    data: {
      user: dataOf(all, a, undefined).username,
      password: dataOf(all, a, v).password,
      alpha: JSON.parse(dataOf(all, a, undefined).config).a,
      token64: b64(dataOf(all, a, undefined).token),
      port: dataOf(all, a, undefined).port,
    },
  };
  t.canaries[`canary-secret-${n}`] = {
    kind: 'Secret',
    data: { token: dataOf(all, a, undefined).token, user: dataOf(all, a, undefined).username, cert: dataOf(all, a, undefined).cert },
  };
  return [
    `apiVersion: v1
kind: ConfigMap
metadata:
  name: canary-cm-${n}
data:
  user: ${t.inline(a, 'username')}
  password: ${t.inline(a, 'password', v ? { version: v } : {})}
  alpha: ${t.inline(a, 'config', { modifiers: 'jsonPath {.a}' })}
  token64: ${t.inline(a, 'token', { modifiers: 'base64encode' })}
  port: ${t.inline(a, 'port')}
`,
    `apiVersion: v1
kind: Secret
metadata:
  name: canary-secret-${n}
  annotations:
    avp.kubernetes.io/path: ${secretPath(a)}
data:
  token: ${b64(t.generic(a, 'token'))}
  user: ${t.generic(a, 'username', 'base64encode')}
stringData:
  cert: ${t.generic(a, 'cert')}
`,
  ];
}

export function denseCorpus({ seed = 11, documents = 5000, seedSecrets = secrets() } = {}) {
  const r = prng(seed);
  const t = new Tracker(seedSecrets);
  const docs = [];
  let n = 0;
  while (docs.length < documents) {
    // The first secret of each document walks all 500 in turn, so every secret is read.
    const a = n % SECRET_COUNT;
    const b = r.int(SECRET_COUNT);
    if (n % 100 === 50 && docs.length + 2 <= documents) {
      docs.push(...canariesB1(t, n, a));
    } else {
      const x = r.next();
      if (x < 0.35) docs.push(deploymentB1(r, t, n, a, b));
      else if (x < 0.55) docs.push(genericSecretB1(r, t, n, a));
      else if (x < 0.7) docs.push(base64SecretB1(r, t, n, a, b));
      else if (x < 0.9) docs.push(configMapB1(r, t, n, a, b));
      else docs.push(ingressB1(r, t, n, a));
    }
    n++;
  }
  return finish(docs, t);
}

// ---------------------------------------------------------------------------------------------
// B2: realistic
// ---------------------------------------------------------------------------------------------

const WORDS = (
  'the a of to is in for that this field when be by resource must controller value set if specifies ' +
  'name namespace object reference selector label annotation pod container volume secret key kubernetes ' +
  'defaults status condition spec list optional required string integer replicas template policy rule ' +
  'endpoint service port protocol certificate issuer duration interval timeout retries backoff strategy ' +
  'deprecated used only applies ignored configuration behaviour cluster node scheduling priority weight ' +
  'matching expressions operator values effect toleration affinity topology spread constraint minimum maximum'
).split(' ');
const ANGLE_SNIPPETS = [
  'Must be <= 63 characters.',
  'Format: <namespace>/<name>.',
  'Values < 1 are treated as 1.',
  'e.g. <prefix>-<suffix> or a bare <name>.',
  'The reference has the form <group>.<kind>/<name> and 0 < weight <= 100.',
  'Use "<" and ">" to compare versions, like >=1.2 <2.0.',
];

function sentence(r, words) {
  let s = '';
  for (let i = 0; i < words; i++) s += (i ? ' ' : '') + r.pick(WORDS);
  return `${s[0].toUpperCase()}${s.slice(1)}.`;
}

function description(r, indent) {
  const parts = [];
  const sentences = 1 + r.int(8);
  for (let i = 0; i < sentences; i++) parts.push(r.chance(0.08) ? r.pick(ANGLE_SNIPPETS) : sentence(r, 5 + r.int(18)));
  const text = parts.join(' ');
  if (text.length < 70 && !/[:#<>"']/.test(text)) return `${indent}description: ${text}\n`;
  // controller-gen style: a literal block, wrapped at ~80 columns.
  const lines = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + word.length + 1 > 80) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return `${indent}description: |-\n${lines.map((l) => `${indent}  ${l}`).join('\n')}\n`;
}

function schemaProps(r, indent, depth, budget) {
  let out = `${indent}properties:\n`;
  const count = depth === 0 ? 10 + r.int(6) : 2 + r.int(7);
  for (let i = 0; i < count && budget.left > 0; i++) {
    const name = `${r.pick(WORDS)}${r.pick(WORDS)[0].toUpperCase()}${r.pick(WORDS).slice(1)}${i}`.replace(/[^A-Za-z0-9]/g, '');
    const p = `${indent}  `;
    let s = `${p}${name}:\n${description(r, `${p}  `)}`;
    const kind = depth >= 5 ? r.int(3) : r.int(6);
    if (kind === 0) s += `${p}  type: string\n${r.chance(0.3) ? `${p}  pattern: ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$\n` : ''}`;
    else if (kind === 1) s += `${p}  format: int32\n${p}  type: integer\n${r.chance(0.4) ? `${p}  minimum: 0\n` : ''}`;
    else if (kind === 2) s += `${p}  type: boolean\n`;
    else if (kind === 3) {
      s += `${p}  items:\n${description(r, `${p}    `)}`;
      budget.left -= s.length;
      s += schemaProps(r, `${p}    `, depth + 1, budget);
      s += `${p}    type: object\n${p}  type: array\n`;
      out += s;
      continue;
    } else {
      budget.left -= s.length;
      s += schemaProps(r, `${p}  `, depth + 1, budget);
      s += `${p}  type: object\n`;
      out += s;
      continue;
    }
    budget.left -= s.length;
    out += s;
  }
  return out;
}

function crdB2(r, i, bytes) {
  const kind = `Widget${i}`;
  const group = `${r.pick(['monitoring', 'networking', 'cert', 'policy', 'storage'])}.acme.io`;
  const versions = ['v1', 'v1beta1'];
  let body = '';
  for (const [vi, version] of versions.entries()) {
    const budget = { left: bytes / versions.length };
    body += `  - name: ${version}
    served: true
    storage: ${vi === 0}
    subresources:
      status: {}
    additionalPrinterColumns:
      - jsonPath: .status.conditions[?(@.type=="Ready")].status
        name: Ready
        type: string
    schema:
      openAPIV3Schema:
${description(r, '        ')}        properties:
          apiVersion:
            type: string
          kind:
            type: string
          metadata:
            type: object
          spec:
${description(r, '            ')}${schemaProps(r, '            ', 0, budget)}            type: object
        type: object
`;
  }
  return `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: ${kind.toLowerCase()}s.${group}
  annotations:
    controller-gen.kubebuilder.io/version: v0.16.5
spec:
  group: ${group}
  names:
    kind: ${kind}
    listKind: ${kind}List
    plural: ${kind.toLowerCase()}s
    singular: ${kind.toLowerCase()}
  scope: Namespaced
  versions:
${body}`;
}

function workloadB2(r, t, n, withSecrets) {
  const team = r.pick(TEAMS);
  const kind = r.chance(0.8) ? 'Deployment' : 'StatefulSet';
  const a = r.int(SECRET_COUNT);
  const env = withSecrets
    ? `            - name: DB_PASSWORD
              value: ${t.inline(a, 'password')}
            - name: DB_USER
              value: ${t.inline(a, 'username')}
            - name: SETTINGS_ALPHA
              value: ${t.inline(r.int(SECRET_COUNT), 'config', { modifiers: 'jsonPath {.a}' })}
`
    : `            - name: DB_PASSWORD
              valueFrom:
                secretKeyRef:
                  name: creds-${n}
                  key: password
`;
  const labels = `app.kubernetes.io/name: wl-${n}
        app.kubernetes.io/instance: wl-${n}-${team}
        app.kubernetes.io/part-of: ${team}
        app.kubernetes.io/managed-by: Helm
        helm.sh/chart: ${team}-${1 + r.int(5)}.${r.int(20)}.${r.int(10)}`;
  return `apiVersion: apps/v1
kind: ${kind}
metadata:
  name: wl-${n}
  namespace: ${team}
  labels:
    ${labels.replace(/\n {8}/g, '\n    ')}
  annotations:
    deployment.kubernetes.io/revision: "${1 + r.int(40)}"
    checksum/config: ${rstr(r, 64, '0123456789abcdef')}
spec:
  replicas: ${1 + r.int(6)}
${kind === 'StatefulSet' ? `  serviceName: wl-${n}\n` : ''}  selector:
    matchLabels:
      app.kubernetes.io/name: wl-${n}
      app.kubernetes.io/instance: wl-${n}-${team}
  template:
    metadata:
      labels:
        ${labels}
      annotations:
        prometheus.io/scrape: "true"
        prometheus.io/port: "9090"
    spec:
      serviceAccountName: wl-${n}
      securityContext:
        runAsNonRoot: true
        runAsUser: ${1000 + r.int(1000)}
        fsGroup: 2000
      affinity:
        podAntiAffinity:
          preferredDuringSchedulingIgnoredDuringExecution:
            - weight: 100
              podAffinityTerm:
                topologyKey: kubernetes.io/hostname
                labelSelector:
                  matchLabels:
                    app.kubernetes.io/name: wl-${n}
      containers:
        - name: app
          image: ${r.pick(IMAGES)}
          imagePullPolicy: IfNotPresent
          args: ["--port=8080", "--metrics-port=9090", "--log-format=json"]
          ports:
            - name: http
              containerPort: 8080
              protocol: TCP
            - name: metrics
              containerPort: 9090
              protocol: TCP
          env:
            - name: POD_NAME
              valueFrom:
                fieldRef:
                  fieldPath: metadata.name
            - name: LOG_LEVEL
              value: ${r.pick(['debug', 'info', 'warn'])}
${env}          envFrom:
            - configMapRef:
                name: wl-${n}-config
          livenessProbe:
            httpGet:
              path: /healthz
              port: http
            initialDelaySeconds: 10
            periodSeconds: 10
          readinessProbe:
            httpGet:
              path: /ready
              port: http
            periodSeconds: 5
          resources:
            limits:
              cpu: ${r.int(4) + 1}
              memory: ${256 * (1 + r.int(8))}Mi
            requests:
              cpu: ${50 + r.int(400)}m
              memory: ${64 + r.int(448)}Mi
          volumeMounts:
            - name: config
              mountPath: /etc/app
              readOnly: true
            - name: tmp
              mountPath: /tmp
      volumes:
        - name: config
          configMap:
            name: wl-${n}-config
        - name: tmp
          emptyDir: {}
`;
}

function serviceB2(r, n) {
  return `apiVersion: v1
kind: Service
metadata:
  name: wl-${n}
  labels:
    app.kubernetes.io/name: wl-${n}
spec:
  type: ClusterIP
  selector:
    app.kubernetes.io/name: wl-${n}
  ports:
    - name: http
      port: 80
      targetPort: http
    - name: metrics
      port: 9090
      targetPort: metrics
`;
}

function serviceAccountB2(n) {
  return `apiVersion: v1
kind: ServiceAccount
metadata:
  name: wl-${n}
  labels:
    app.kubernetes.io/name: wl-${n}
automountServiceAccountToken: false
`;
}

function configMapB2(r, t, n, withSecret) {
  const lines = [];
  const count = 20 + r.int(60);
  for (let i = 0; i < count; i++) lines.push(`    ${r.pick(WORDS)}_${i} = ${r.chance(0.5) ? r.int(10000) : `"${sentence(r, 3)}"`}`);
  if (withSecret) lines.splice(r.int(lines.length), 0, `    api_token = "${t.inline(r.int(SECRET_COUNT), 'token')}"`);
  return `apiVersion: v1
kind: ConfigMap
metadata:
  name: wl-${n}-config
data:
  LISTEN_ADDR: ":8080"
  app.conf: |
    # generated for wl-${n}; compare with <= and >= in rules
${lines.join('\n')}
`;
}

function genericSecretB2(r, t, n) {
  const a = r.int(SECRET_COUNT);
  return `apiVersion: v1
kind: Secret
metadata:
  name: creds-${n}
  annotations:
    avp.kubernetes.io/path: ${secretPath(a)}
type: Opaque
stringData:
  username: ${t.generic(a, 'username')}
  password: ${t.generic(a, 'password')}
`;
}

function base64SecretB2(r, t, n) {
  return `apiVersion: v1
kind: Secret
metadata:
  name: creds-${n}
type: Opaque
data:
  username: ${b64(`svc-${n}`)}
  password: ${b64(t.inline(r.int(SECRET_COUNT), 'password'))}
`;
}

/** A Secret with nothing to fill (e.g. a TLS Secret): a candidate that is parsed but unchanged. */
function plainSecretB2(r, n) {
  const cert = b64(`-----BEGIN CERTIFICATE-----\n${rstr(r, 1200, B64)}\n-----END CERTIFICATE-----\n`);
  return `apiVersion: v1
kind: Secret
metadata:
  name: tls-${n}
type: kubernetes.io/tls
data:
  tls.crt: ${cert}
  tls.key: ${b64(rstr(r, 900, B64))}
`;
}

export function realisticCorpus({ seed = 22, workloads = 1000, crds = 24, crdBytes = 180_000, seedSecrets = secrets() } = {}) {
  const r = prng(seed);
  const t = new Tracker(seedSecrets);
  const docs = [];
  for (let i = 0; i < crds; i++) docs.push(crdB2(r, i, crdBytes * (0.4 + 1.2 * r.next())));
  for (let n = 0; n < workloads; n++) {
    docs.push(serviceAccountB2(n), serviceB2(r, n));
    // ~10 % of all documents carry placeholders: workloads and config, plus one Secret
    // (with placeholders) for every fifth workload.
    docs.push(configMapB2(r, t, n, r.chance(0.06)));
    docs.push(workloadB2(r, t, n, r.chance(0.15)));
    if (n % 5 === 0) docs.push(r.chance(0.5) ? genericSecretB2(r, t, n) : base64SecretB2(r, t, n));
    if (n % 20 === 7) docs.push(plainSecretB2(r, n));
  }
  // Canaries, so the guard can check values exactly here too.
  const tc = new Tracker(seedSecrets);
  tc.pairs = t.pairs;
  tc.placeholders = t.placeholders;
  for (const a of [3, 250, 499]) docs.push(...canariesB1(tc, 90000 + a, a));
  tc.canaries = Object.fromEntries(Object.entries(tc.canaries));
  const res = finish(docs, tc);
  return res;
}

// ---------------------------------------------------------------------------------------------

function finish(docs, t) {
  const text = docs.map((d) => `---\n${d}`).join('');
  const withPlaceholders = docs.filter((d) => /<path:|avp\.kubernetes\.io\/path|: PHBhdGg6/.test(d)).length;
  return {
    text,
    documents: docs.length,
    withPlaceholders,
    placeholders: t.placeholders,
    pairs: t.pairs,
    canaries: t.canaries,
    sha256: createHash('sha256').update(text).digest('hex'),
  };
}

export function describe(name, c) {
  return `${name}: ${(Buffer.byteLength(c.text) / 1e6).toFixed(2)} MB, ${c.documents} docs (${c.withPlaceholders} with placeholders), ` +
    `${c.placeholders} placeholders, ${c.pairs.size} distinct (path, version) reads, sha256 ${c.sha256.slice(0, 12)}`;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dir = process.argv[2] ?? path.join(path.dirname(fileURLToPath(import.meta.url)), 'out');
  mkdirSync(dir, { recursive: true });
  const s = secrets();
  for (const [name, c] of [['b1', denseCorpus({ seedSecrets: s })], ['b2', realisticCorpus({ seedSecrets: s })]]) {
    writeFileSync(path.join(dir, `${name}.yaml`), c.text);
    console.log(describe(name, c));
  }
}

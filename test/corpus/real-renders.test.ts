// The corpus of real renders is there and real: every render parses, holds the documents its
// chart or base gives, and the corpus as a whole holds what the YAML reader tests lean on.
// Minimums are the counts of the pinned versions (renders are deterministic): an empty render,
// a truncated one or a value set that stopped applying fails here, not in a test that uses them.
import test from 'ava';
import { parseAllDocuments } from 'yaml';
import { realRenders } from '../helpers/real-renders.js';

// Cold, the corpus may need helm built first (minutes); .ci/run builds both before the tests.
const BUILD_WAIT_MS = 20 * 60_000;

type Kinds = Record<string, number>;

const EXPECTED: Record<string, { documents: number; kinds: Kinds }> = {
  'podinfo-defaults': { documents: 2, kinds: { Deployment: 1, Service: 1 } },
  'podinfo-prod': { documents: 6, kinds: { Deployment: 2, ConfigMap: 1, HorizontalPodAutoscaler: 1 } },
  'podinfo-features': { documents: 12, kinds: { Deployment: 2, Ingress: 1, Certificate: 1, ServiceMonitor: 1, PodDisruptionBudget: 1 } },
  'podinfo-kustomize': { documents: 3, kinds: { Deployment: 1, Service: 1, HorizontalPodAutoscaler: 1 } },
  'ingress-nginx-defaults': { documents: 18, kinds: { Deployment: 1, Job: 2, ValidatingWebhookConfiguration: 1, ClusterRole: 2 } },
  'ingress-nginx-features': { documents: 28, kinds: { DaemonSet: 1, Secret: 1, ConfigMap: 6, PrometheusRule: 1, Issuer: 2 } },
  'cert-manager-crds': { documents: 50, kinds: { CustomResourceDefinition: 6, Deployment: 3, MutatingWebhookConfiguration: 1 } },
  'cert-manager-features': { documents: 55, kinds: { ConfigMap: 3, NetworkPolicy: 4, ClusterIssuer: 1, PodDisruptionBudget: 2 } },
  'metrics-server-defaults': { documents: 9, kinds: { APIService: 1, Deployment: 1, ClusterRole: 2 } },
  'metrics-server-features': { documents: 18, kinds: { APIService: 1, Certificate: 1, ConfigMap: 1, ServiceMonitor: 1 } },
  'sealed-secrets-defaults': { documents: 11, kinds: { CustomResourceDefinition: 1, Deployment: 1, Role: 2 } },
  'sealed-secrets-features': { documents: 16, kinds: { Ingress: 1, ConfigMap: 1, PrometheusRule: 1, NetworkPolicy: 1 } },
  'argo-cd-cluster-install': { documents: 59, kinds: { CustomResourceDefinition: 3, StatefulSet: 1, Deployment: 6, Secret: 2, ConfigMap: 7 } },
  'argo-cd-ha-namespace-install': { documents: 61, kinds: { StatefulSet: 2, Deployment: 6, ConfigMap: 9, NetworkPolicy: 8 } },
};

interface Parsed {
  name: string;
  errors: string[];
  /** each non-empty document as plain data */
  documents: unknown[];
}

const corpus: Promise<Parsed[]> = realRenders().then((renders) =>
  renders.map(({ name, text }) => {
    const docs = parseAllDocuments(text);
    const errors = docs.flatMap((d) => d.errors.map((e) => `${e.code}: ${e.message}`));
    const documents = docs.map((d) => d.toJS({ maxAliasCount: -1 }) as unknown).filter((d) => d !== null);
    return { name, errors, documents };
  }),
);
corpus.catch(() => undefined); // reported by each test

function field(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>)[key] : undefined;
}

function kindsOf(documents: unknown[]): Kinds {
  const kinds: Kinds = {};
  for (const d of documents) {
    const kind = field(d, 'kind');
    if (typeof kind === 'string') kinds[kind] = (kinds[kind] ?? 0) + 1;
  }
  return kinds;
}

function* strings(value: unknown): Generator<string> {
  if (typeof value === 'string') yield value;
  else if (Array.isArray(value)) for (const v of value) yield* strings(v);
  else if (typeof value === 'object' && value !== null) for (const v of Object.values(value)) yield* strings(v);
}

test('every render parses with the yaml package, without errors', async (t) => {
  t.timeout(BUILD_WAIT_MS, 'building the corpus of real renders');
  for (const { name, errors } of await corpus) t.deepEqual(errors, [], name);
});

test('each render holds the documents and kinds its chart or base gives', async (t) => {
  t.timeout(BUILD_WAIT_MS, 'building the corpus of real renders');
  const parsed = await corpus;
  t.deepEqual(parsed.map((p) => p.name).sort(), Object.keys(EXPECTED).sort(), 'every render has expectations here');
  for (const { name, documents } of parsed) {
    const expected = EXPECTED[name];
    if (!expected) continue;
    t.true(documents.length >= expected.documents, `${name}: ${documents.length} documents, expected at least ${expected.documents}`);
    const kinds = kindsOf(documents);
    for (const [kind, min] of Object.entries(expected.kinds)) {
      t.true((kinds[kind] ?? 0) >= min, `${name}: ${kinds[kind] ?? 0} × ${kind}, expected at least ${min}`);
    }
    const kindless = documents.filter((d) => typeof field(d, 'kind') !== 'string').length;
    t.is(kindless, 0, `${name}: documents without a kind`);
  }
});

test('the corpus holds a Secret, a ConfigMap with a multi-line value, a CRD and a value containing <', async (t) => {
  t.timeout(BUILD_WAIT_MS, 'building the corpus of real renders');
  const documents = (await corpus).flatMap((p) => p.documents);
  const ofKind = (kind: string) => documents.filter((d) => field(d, 'kind') === kind);
  t.true(ofKind('Secret').length > 0, 'a Secret');
  t.true(ofKind('CustomResourceDefinition').length > 0, 'a CustomResourceDefinition');
  const multiLine = ofKind('ConfigMap').filter((d) => [...strings(field(d, 'data'))].some((v) => v.trimEnd().includes('\n')));
  t.true(multiLine.length > 0, 'a ConfigMap with a multi-line value');
  const withLt = documents.filter((d) => [...strings(d)].some((v) => v.includes('<')));
  t.true(withLt.some((d) => field(d, 'kind') === 'CustomResourceDefinition'), 'a CRD whose text holds <');
  t.true(withLt.some((d) => field(d, 'kind') === 'ConfigMap'), 'a ConfigMap value holding <');
});

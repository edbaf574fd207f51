/**
 * AVP_RECORD: what `generate` adds to a render (the record of the KV v2 versions it read), and
 * that the render's own documents stay byte for byte, as Kubernetes' own reader (the way Argo CD
 * reads a plugin's output) sees the stream.
 */
import test from 'ava';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { metadataPath, parseVersions, recordName, withRecord } from '../../src/refresh/record.js';
import { runMain } from '../helpers/cli.js';
import { startK8sYamlReader, type K8sYamlReader } from '../helpers/k8s-yaml.js';

const PASSWORD = 'correct-horse-battery-staple-42';
const secretsFile = (): string => {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'vaultfill-record-')), 'secrets.yaml');
  writeFileSync(
    file,
    [
      'secrets:',
      '  - path: secret/data/app/db',
      `    versions: [{password: old-${PASSWORD}}, {password: ${PASSWORD}}, {password: newest-${PASSWORD}}]`,
      '  - path: secret/data/app/api',
      '    data: {key: api-key-value-123}',
      '  - path: kv1/app',
      '    data: {token: kv1-token-value}',
      '',
    ].join('\n'),
  );
  return file;
};

function generate(input: string, env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return runMain(['generate', '--secrets-file', secretsFile(), '-'], { input, env: { ARGOCD_APP_NAME: 'web', ARGOCD_APP_NAMESPACE: 'team-a', AVP_RECORD: 'true', ...env } });
}

const SECRET = [
  '# a comment the record must not move',
  'apiVersion: v1',
  'kind: Secret',
  'metadata:',
  '  name: web',
  'stringData:',
  '  latest: <path:secret/data/app/db#password>',
  '  pinned: <path:secret/data/app/db#password#1>',
  '  api: <path:secret/data/app/api#key>',
  '',
].join('\n');
const PINNED_ONLY = ['---', 'apiVersion: v1', 'kind: ConfigMap', 'metadata: {name: pinned, annotations: {avp.kubernetes.io/path: secret/data/app/db, avp.kubernetes.io/secret-version: "2"}}', 'data: {p: <password>}', ''].join('\n');
const KV1 = ['---', 'apiVersion: v1', 'kind: ConfigMap', 'metadata: {name: kv1, annotations: {avp.kubernetes.io/kv-version: "1"}}', 'data: {t: <path:kv1/app#token>}', ''].join('\n');
const UNTOUCHED = ['---', 'apiVersion: v1', 'kind: ConfigMap', 'metadata: {name: plain}', 'data: {a: "1"}   # kept', ''].join('\n');

let k8s: K8sYamlReader;
test.before(async () => {
  k8s = await startK8sYamlReader();
});
test.after.always(async () => {
  await k8s?.close();
});

test('with AVP_RECORD, generate writes a ConfigMap of the latest KV v2 versions it read, and the render itself byte for byte as without', async (t) => {
  const input = SECRET + PINNED_ONLY + KV1 + UNTOUCHED;
  const withRecordOn = await generate(input, {});
  const without = await generate(input, { AVP_RECORD: 'false' });
  t.is(withRecordOn.code, 0, withRecordOn.stderr);
  t.is(without.code, 0, without.stderr);
  t.is(withRecordOn.stderr, '');
  const record = [
    'apiVersion: v1',
    'kind: ConfigMap',
    'metadata:',
    '  name: "vaultfill-record-web"',
    '  namespace: "team-a"',
    '  labels:',
    '    "vaultfill.io/record": "true"',
    '  annotations:',
    '    "vaultfill.io/application": "web"',
    'data:',
    '  versions: "{\\"secret/data/app/api\\":1,\\"secret/data/app/db\\":3}"',
    '---',
    '',
  ].join('\n');
  t.is(withRecordOn.stdout, record + without.stdout, 'the record first, then the render unchanged');
  const read = await k8s.read(withRecordOn.stdout);
  if (!('documents' in read)) return t.fail(read.error);
  t.is(read.documents.length, 5);
  t.deepEqual(read.documents[0], {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'vaultfill-record-web', namespace: 'team-a', labels: { 'vaultfill.io/record': 'true' }, annotations: { 'vaultfill.io/application': 'web' } },
    data: { versions: '{"secret/data/app/api":1,"secret/data/app/db":3}' },
  });
  t.deepEqual(read.documents.slice(1), ((await k8s.read(without.stdout)) as { documents: unknown[] }).documents);
  t.false(withRecordOn.stdout.slice(0, record.length).includes(PASSWORD) || withRecordOn.stdout.slice(0, record.length).includes('api-key-value'), 'no value in the record');
});

test('pinned versions (#N, the secret-version annotation) and KV v1 reads are not recorded; a render that read only those has no record', async (t) => {
  const r = await generate(PINNED_ONLY + KV1 + UNTOUCHED, {});
  t.is(r.code, 0, r.stderr);
  t.false(r.stdout.includes('vaultfill-record'));
  t.true(r.stdout.startsWith('---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: pinned'));
});

test('without ARGOCD_APP_NAME or ARGOCD_APP_NAMESPACE the render is written without a record, with one warning', async (t) => {
  for (const missing of ['ARGOCD_APP_NAME', 'ARGOCD_APP_NAMESPACE']) {
    const r = await generate(SECRET, { [missing]: '' });
    const plain = await generate(SECRET, { AVP_RECORD: '0' });
    t.is(r.code, 0, r.stderr);
    t.is(r.stdout, plain.stdout, missing);
    t.is(r.stderr, 'vaultfill: warning: AVP_RECORD is on, but ARGOCD_APP_NAME or ARGOCD_APP_NAMESPACE is not set (Argo CD sets both for a plugin); no record written\n');
  }
});

test('an Application cannot turn the record on or off: ARGOCD_ENV_AVP_RECORD is a CONFIG error, and nothing is written', async (t) => {
  const r = await generate(SECRET, { ARGOCD_ENV_AVP_RECORD: 'false' });
  t.is(r.code, 2);
  t.is(r.stdout, '');
  t.regex(r.stderr, /^error CONFIG: ARGOCD_ENV_AVP_RECORD: an Application may not set AVP_RECORD; .*no setting lets an Application choose it/m);
  const bad = await generate(SECRET, { AVP_RECORD: 'sometimes' });
  t.is(bad.code, 2);
  t.regex(bad.stderr, /error CONFIG: AVP_RECORD must be true or false/);
});

test('the record keeps every byte of the render however the stream starts or ends, and Kubernetes reads one more document', async (t) => {
  const versions = new Map([['secret/data/b', 2], ['secret/data/a', 7]]);
  const app = { name: 'web', namespace: 'ns' };
  const cases: Array<[string, string[]]> = [
    ['no final line break, a block scalar last', ['apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata:\n  f: |\n    abc']],
    ['opens with ---', ['--- # first\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n']],
    ['CRLF line ends', ['---\r\napiVersion: v1\r\nkind: ConfigMap\r\nmetadata: {name: x}\r\n']],
    ['comments, then ---', ['# Source: chart/x.yaml\n\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n']],
    ['JSON', ['{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "data": {"s": "a\\/b"}}']],
    ['JSON in pieces, final line break', ['  {"apiVersion": "v1", "kind": "ConfigMap",', ' "metadata": {"name": "x"}}\n']],
  ];
  for (const [what, output] of cases) {
    const before = await k8s.read(output.join(''));
    const after = withRecord(output, app, versions);
    const text = after.join('');
    t.true(text.includes(output.join('')), `${what}: the render's bytes`);
    const read = await k8s.read(text);
    if (!('documents' in read) || !('documents' in before)) return t.fail(`${what}: ${JSON.stringify(read)}`);
    const record = read.documents.find((d) => (d as { metadata?: { name?: string } }).metadata?.name === 'vaultfill-record-web');
    t.deepEqual((record as { data?: unknown } | undefined)?.data, { versions: '{"secret/data/a":7,"secret/data/b":2}' }, what);
    t.deepEqual(read.documents.filter((d) => d !== record), before.documents, `${what}: the render reads the same`);
  }
});

test('record names are DNS-1123 names derived from the Application name; changed or long names get a hash', (t) => {
  t.is(recordName('web'), 'vaultfill-record-web');
  t.regex(recordName('team-a_web'), /^vaultfill-record-team-a-web-[0-9a-f]{8}$/);
  t.not(recordName('team-a_web'), recordName('team-a-web'));
  t.regex(recordName('Web'), /^vaultfill-record-web-[0-9a-f]{8}$/);
  const long = recordName(`a${'b'.repeat(80)}`);
  t.true(long.length <= 63 && /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(long), long);
  t.not(long, recordName(`a${'b'.repeat(81)}`));
});

test('a KV v2 data path maps to its metadata path', (t) => {
  t.is(metadataPath('secret/data/app'), 'secret/metadata/app');
  t.is(metadataPath('secret/data/data/x'), 'secret/metadata/data/x');
  t.is(metadataPath('kv/team/data/app/db'), 'kv/team/metadata/app/db');
  t.is(metadataPath('data/data/app'), 'data/metadata/app');
  t.is(metadataPath('secret/app'), undefined);
  t.is(metadataPath('secret/data'), undefined);
  t.deepEqual(parseVersions('{"secret/data/a":3}'), new Map([['secret/data/a', 3]]));
  for (const bad of ['[]', '{"secret/data/a":0}', '{"secret/data/a":"3"}', '{"secret/a":3}', 'nope', undefined]) t.is(parseVersions(bad), undefined, String(bad));
});

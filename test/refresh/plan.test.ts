/** What a refresher round decides: which record belongs to which Application, what to read, whom to mark. */
import test from 'ava';
import { matchRecords, metadataPaths, staleApplications, type ApplicationObject, type RecordObject } from '../../src/refresh/plan.js';
import { recordName } from '../../src/refresh/record.js';

const app = (namespace: string, name: string, destination: string, server = 'https://kubernetes.default.svc'): ApplicationObject => ({
  metadata: { name, namespace },
  spec: { destination: { namespace: destination, server } },
});
const record = (namespace: string, appName: string, versions: Record<string, number>, name = recordName(appName)): RecordObject => ({
  metadata: { name, namespace, annotations: { 'vaultfill.io/application': appName } },
  data: { versions: JSON.stringify(versions) },
});

const applications = [app('argocd', 'web', 'team-a'), app('argocd', 'api', 'team-a'), app('argocd', 'batch', 'team-b'), app('apps', 'web', 'team-c')];

test('a record counts for the Application it names, under the name the sidecar gives it, in that Application\'s destination namespace', (t) => {
  const { matched, unmatched } = matchRecords(
    [
      record('team-a', 'web', { 'secret/data/shared': 3 }),
      record('team-c', 'apps_web', { 'secret/data/c': 1 }),
      // Forged or stray: another team's namespace, a name the sidecar would not give, an unknown app, bad data.
      record('team-b', 'web', { 'secret/data/shared': 1 }),
      record('team-a', 'api', { 'secret/data/shared': 1 }, 'vaultfill-record-web'),
      record('team-a', 'gone', { 'secret/data/shared': 1 }),
      { metadata: { name: recordName('batch'), namespace: 'team-b', annotations: { 'vaultfill.io/application': 'batch' } }, data: { versions: '{"secret/data/x": "a value?"}' } },
      { metadata: { name: 'vaultfill-record-x', namespace: 'team-a' } },
    ],
    applications,
    'argocd',
  );
  t.deepEqual(matched.map((m) => [m.app, m.record]), [['argocd/web', 'team-a/vaultfill-record-web'], ['apps/web', 'team-c/' + recordName('apps_web')]]);
  t.is(unmatched.length, 5);
  t.regex(unmatched.join('\n'), /team-b\/vaultfill-record-web: not in the destination namespace of web/);
  t.regex(unmatched.join('\n'), /team-a\/vaultfill-record-web: not the record name of api/);
  t.regex(unmatched.join('\n'), /no Application gone/);
});

test('a record found here never counts for an Application deploying to another cluster', (t) => {
  const remote = [app('argocd', 'web', 'team-a', 'https://prod.example.com:6443'), { metadata: { name: 'api', namespace: 'argocd' }, spec: { destination: { name: 'in-cluster', namespace: 'team-a' } } }];
  const { matched, unmatched } = matchRecords([record('team-a', 'web', { 'secret/data/a': 1 }), record('team-a', 'api', { 'secret/data/a': 1 })], remote, 'argocd');
  t.deepEqual(matched.map((m) => m.app), ['argocd/api']);
  t.deepEqual(unmatched, ['team-a/vaultfill-record-web: web deploys to another cluster']);
});

test('an Application outside Argo CD\'s namespace is matched only by its qualified name', (t) => {
  const { matched } = matchRecords([record('team-c', 'web', { 'secret/data/c': 1 })], applications, 'argocd');
  t.deepEqual(matched, [], 'plain "web" is argocd/web, whose destination is team-a');
});

test('each distinct path is read once, on its metadata path; exactly the Applications with an older recorded version are stale; pinned reads were never recorded', (t) => {
  const { matched } = matchRecords(
    [
      record('team-a', 'web', { 'secret/data/shared': 3, 'secret/data/web': 5 }),
      record('team-a', 'api', { 'secret/data/shared': 4 }),
      record('team-b', 'batch', { 'secret/data/batch': 2 }),
    ],
    applications,
    'argocd',
  );
  t.deepEqual(metadataPaths(matched), ['secret/metadata/batch', 'secret/metadata/shared', 'secret/metadata/web']);
  const stale = staleApplications(matched, new Map([['secret/metadata/shared', 4], ['secret/metadata/web', 5], ['secret/metadata/batch', 2]]));
  t.deepEqual(stale.map((s) => [s.matched.app, s.paths]), [['argocd/web', [{ path: 'secret/data/shared', recorded: 3, current: 4 }]]]);
  const later = staleApplications(matched, new Map([['secret/metadata/shared', 5]]));
  t.deepEqual(later.map((s) => s.matched.app), ['argocd/web', 'argocd/api'], 'a path Vault could not say is skipped, the others decide');
  t.not(later[0]?.key, stale[0]?.key, 'a newer version in Vault is a new reason to mark');
});

/**
 * examples/argocd/helm-values.yaml, rendered with the real argo-cd Helm chart (argoproj/argo-helm,
 * from the Go module proxy like the corpus of real renders), gives the repo-server the same
 * vaultfill sidecars and volumes as the kustomize patch examples/argocd/repo-server-patch.yaml, and
 * the refresher the objects of examples/argocd/refresher.yaml.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { download } from '../corpus/real-renders.mjs';
import { installHelm, repoRoot } from './cmp.js';

// charts/argo-cd 10.8.0 (Argo CD v3.5.2) at this commit of argo-helm.
const ARGO_HELM = { module: 'github.com/argoproj/argo-helm', version: 'v0.0.0-20260904222229-3bbb4305eea9' };

interface Container {
  name: string;
  image?: string;
  [field: string]: unknown;
}
interface PodSpec {
  containers: Container[];
  volumes: Array<{ name: string }>;
}

test('the argo-cd chart with helm-values.yaml gives the repo-server the kustomize patch’s sidecars and volumes', async (t) => {
  t.timeout(20 * 60_000, 'helm and the chart module may be fetched first');
  const scratch = mkdtempSync(join(tmpdir(), 'vaultfill-helm-values-'));
  t.teardown(() => rmSync(scratch, { recursive: true, force: true }));
  const module = await download(ARGO_HELM, scratch);
  // The chart declares redis-ha (off by default) and helm template refuses a declared dependency
  // missing from charts/: a copy without that declaration renders the same repo-server.
  const chart = join(scratch, 'argo-cd');
  cpSync(join(module, 'charts', 'argo-cd'), chart, { recursive: true });
  const meta = parse(readFileSync(join(chart, 'Chart.yaml'), 'utf8')) as Record<string, unknown>;
  delete meta.dependencies;
  writeFileSync(join(chart, 'Chart.yaml'), JSON.stringify(meta));
  rmSync(join(chart, 'Chart.lock'), { force: true });

  const helm = join(await installHelm(), 'helm');
  const r = spawnSync(helm, ['template', 'argocd', chart, '-n', 'argocd', '--kube-version', '1.33.0', '-f', join(repoRoot, 'examples', 'argocd', 'helm-values.yaml')], { encoding: 'utf8', maxBuffer: 64 << 20 });
  t.is(r.status, 0, r.stderr);
  const rendered = parseAllDocuments(r.stdout).map((d) => d.toJS() as { kind?: string; metadata?: { name?: string }; spec?: { template: { spec: PodSpec } } });
  const deployment = rendered.find((d) => d.kind === 'Deployment' && d.metadata?.name === 'argocd-repo-server');
  const fromChart = deployment?.spec?.template.spec;
  if (!fromChart) throw new Error('no argocd-repo-server Deployment in the render');

  const patch = (parse(readFileSync(join(repoRoot, 'examples', 'argocd', 'repo-server-patch.yaml'), 'utf8')) as { spec: { template: { spec: PodSpec } } }).spec.template.spec;
  const sidecars = (spec: PodSpec): Container[] =>
    spec.containers.filter((c) => c.name.startsWith('vaultfill')).map(({ image: _image, ...rest }) => rest);
  t.deepEqual(sidecars(fromChart).map((c) => c.name), ['vaultfill', 'vaultfill-helm', 'vaultfill-kustomize']);
  t.deepEqual(sidecars(fromChart), sidecars(patch), 'the same containers, image aside');
  const volumes = new Map(fromChart.volumes.map((v) => [v.name, v]));
  for (const volume of patch.volumes) t.deepEqual(volumes.get(volume.name), volume, volume.name);
  // What the sidecars mount and the patch takes from Argo CD's own manifests: the chart has them too.
  t.true(volumes.has('var-files') && volumes.has('plugins'));

  // The refresher (extraObjects): refresher.yaml's objects, image aside, in the release's namespace.
  const withoutImage = (o: unknown): unknown => JSON.parse(JSON.stringify(o, (key, value: unknown) => (key === 'image' ? undefined : value)));
  const refresher = parseAllDocuments(readFileSync(join(repoRoot, 'examples', 'argocd', 'refresher.yaml'), 'utf8')).map((d) => withoutImage(d.toJS()));
  const named = (d: unknown): string => `${String((d as { kind?: string }).kind)}/${String((d as { metadata?: { name?: string } }).metadata?.name)}`;
  const fromValues = rendered.filter((d) => d.metadata?.name === 'vaultfill-refresher').map(withoutImage);
  t.deepEqual(fromValues.map(named).sort(), refresher.map(named).sort());
  for (const object of refresher) t.deepEqual(fromValues.find((d) => named(d) === named(object)), object, named(object));
});

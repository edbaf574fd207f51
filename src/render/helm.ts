/**
 * `vaultfill helm`: `helm template` on the chart in the working directory, with the arguments
 * cmp/helm/plugin.yaml used to build in bash, each Application-supplied one checked first
 * (src/render/arguments.ts), then the generate pipeline on helm's output.
 *
 *   helm template <release> . --namespace $ARGOCD_APP_NAMESPACE --include-crds
 *     [--kube-version v<major>.<minor>.<patch> from $KUBE_VERSION] [--api-versions $KUBE_API_VERSIONS]
 *     [--values <values-files[i]>]… [helm-args…] [HELM_ARGS words…] [--values <HELM_VALUES in a temp file>]
 *
 * The release is the release-name parameter, else the Application's name. Inline values
 * (ARGOCD_ENV_HELM_VALUES) come last, so they win over every values file; their file lives in
 * a private temporary directory that is removed afterwards.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Env } from '../config.js';
import { VaultfillError } from '../errors.js';
import { HELM_FLAGS, checkArguments, refusal, releaseNameProblem, splitWords, type Argument } from './arguments.js';
import { checkFiles } from './checkout.js';
import { fail, parameterItems, placeOf, renderWith, requireTool, type RenderContext, type Rendered } from './render.js';

export async function renderHelm(context: RenderContext): Promise<Rendered> {
  const { env } = context;
  const place = placeOf(context);
  const errors: VaultfillError[] = [];

  const release = releaseName(env, errors);
  const args = ['template', release, '.'];
  if (env.ARGOCD_APP_NAMESPACE) args.push('--namespace', env.ARGOCD_APP_NAMESPACE);
  args.push('--include-crds');
  // Render for the destination cluster, as Argo CD's own Helm support does. Clusters report
  // versions such as 1.29+, v1.29.3+k3s1 or 1.29.3-gke.1; helm wants semver.
  const kube = /^v?([0-9]+)\.([0-9]+)(\.([0-9]+))?/.exec(env.KUBE_VERSION ?? '');
  if (kube) args.push('--kube-version', `v${kube[1]}.${kube[2]}.${kube[4] ?? '0'}`);
  if (env.KUBE_API_VERSIONS) args.push('--api-versions', env.KUBE_API_VERSIONS);

  // values-files items are --values arguments (so a comma inside one lists two files to helm).
  const valuesFiles = parameterItems(env, 'values-files').flatMap((item): Argument[] => [{ value: '--values', where: item.where }, item]);
  const sources = [valuesFiles, parameterItems(env, 'helm-args'), helmArgs(env)];
  for (const items of sources) {
    const checked = checkArguments(items, HELM_FLAGS);
    errors.push(...checked.errors, ...checkFiles(checked.files, place.cwd, place.root));
    args.push(...items.map((item) => item.value));
  }
  fail(errors);
  const helm = requireTool('helm', env);

  const inline = env.ARGOCD_ENV_HELM_VALUES;
  if (!inline) return renderWith(context, place, 'helm template', helm, args);
  const dir = mkdtempSync(path.join(env.TMPDIR || '/tmp', 'vaultfill-values-'));
  try {
    const file = path.join(dir, 'values.yaml');
    writeFileSync(file, `${inline}\n`, { mode: 0o600 });
    return await renderWith(context, place, 'helm template', helm, [...args, '--values', file]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function releaseName(env: Env, errors: VaultfillError[]): string {
  const fromParameter = env.PARAM_RELEASE_NAME;
  const name = fromParameter || env.ARGOCD_APP_NAME || '';
  const where = fromParameter ? 'release-name' : 'ARGOCD_APP_NAME';
  if (!name) {
    errors.push(new VaultfillError('RENDER_ARGUMENT', 'no release name: set the release-name parameter (ARGOCD_APP_NAME is not set either)'));
    return '';
  }
  const problem = releaseNameProblem(name);
  if (problem) {
    const hint = fromParameter ? '' : '; set the release-name parameter';
    errors.push(refusal({ value: name, where }, `the release name ${problem}${hint}`));
  }
  return name;
}

/** ARGOCD_ENV_HELM_ARGS, from argocd-vault-plugin setups: words, each one argument. */
function helmArgs(env: Env): Argument[] {
  return splitWords(env.ARGOCD_ENV_HELM_ARGS ?? '').map((value, i) => ({ value, where: `HELM_ARGS[${i}]` }));
}

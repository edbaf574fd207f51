/**
 * `vaultfill kustomize`: `kustomize build . [kustomize-args…]`, or `kubectl kustomize .` when
 * there is no kustomize binary on PATH (the same library), with the kustomize-args parameter
 * checked first (src/render/arguments.ts), then the generate pipeline on the output.
 */
import { KUSTOMIZE_FLAGS, checkArguments } from './arguments.js';
import { fail, parameterItems, placeOf, renderWith, requireTool, type RenderContext, type Rendered } from './render.js';
import { findOnPath } from './run.js';

export async function renderKustomize(context: RenderContext): Promise<Rendered> {
  const { env } = context;
  const place = placeOf(context);
  const items = parameterItems(env, 'kustomize-args');
  // No kustomize flag names a file: the load restrictor keeps kustomize's own reads in the root.
  fail(checkArguments(items, KUSTOMIZE_FLAGS).errors);
  const args = items.map((item) => item.value);
  const kustomize = findOnPath('kustomize', env.PATH);
  if (kustomize) return renderWith(context, place, 'kustomize build', kustomize, ['build', '.', ...args]);
  return renderWith(context, place, 'kubectl kustomize', requireTool('kubectl', env), ['kustomize', '.', ...args]);
}

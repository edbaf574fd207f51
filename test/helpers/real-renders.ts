// The corpus of real rendered manifests (public Helm charts and Kustomize bases rendered
// offline by test/corpus/real-renders.mjs), for tests that need real-world YAML.
//
//   const renders = await realRenders();   // [{ name: 'cert-manager-crds', text: '---\n…' }, …]
//
// The first call on a machine may build helm and download the modules (minutes when helm is
// not built yet; .ci/run builds the corpus before the tests): give the test a long t.timeout.
import { readFile } from 'node:fs/promises';
import { ensureRealRenders } from '../corpus/real-renders.mjs';

export interface RealRender {
  /** e.g. `podinfo-features`: the source and the value set it was rendered with */
  readonly name: string;
  /** the render, as helm or kubectl kustomize wrote it */
  readonly text: string;
}

let pending: Promise<RealRender[]> | undefined;

/** Every render of the corpus, in a fixed order; read once per process. */
export function realRenders(): Promise<RealRender[]> {
  pending ??= ensureRealRenders().then((files) =>
    Promise.all(files.map(async ({ name, path }) => ({ name, text: await readFile(path, 'utf8') }))),
  );
  return pending;
}

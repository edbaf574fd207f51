#!/usr/bin/env node
// `npm run build` (after `tsc` has type-checked src/): bundles src/bin.ts into dist/bin.cjs with
// esbuild, as one CommonJS file. The sources are ES modules; the bundle is CommonJS because
// Node's ESM loader, and the ~20 builtin modules it loads, cost B2 ~45 ms of wall time (~25 ms
// CPU) and B1 ~55 ms; `version` was the same (README "Performance"). Each part imported on
// demand (check, generate, the Vault client, …) becomes a function that runs on first use, so
// it still loads only what a run needs.
// yaml, fast-glob and re2js (CommonJS builds) stay in node_modules; p-limit, an ES module CommonJS cannot
// require on all of Node 20, is bundled.
import { build } from 'esbuild';
import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = path.join(root, 'dist');
const entry = path.join(root, 'src', 'bin.ts');

rmSync(dist, { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: [entry],
  outfile: path.join(dist, 'bin.cjs'),
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  external: ['yaml', 'fast-glob', 're2js'],
  // The sources load some modules on first use through createRequire(import.meta.url). In a
  // CommonJS file, that is the file's own `require`; node:module itself costs ~1.5 ms to load.
  define: { 'import.meta.url': '__filename' },
  plugins: [
    {
      name: 'own-require',
      setup(build) {
        build.onResolve({ filter: /^node:module$/ }, () => ({ path: 'node:module', namespace: 'own-require' }));
        build.onLoad({ filter: /.*/, namespace: 'own-require' }, () => ({ contents: 'export const createRequire = () => require;', loader: 'js' }));
      },
    },
  ],
  logLevel: 'warning',
});

// esbuild keeps the `#!` line but drops comments; the launcher's first lines (sh reads them,
// Node skips them as comments; see src/bin.ts) go back on top, as they stand in the source.
const header = [];
for (const line of readFileSync(entry, 'utf8').split('\n')) {
  if (!line.startsWith('#!') && !line.startsWith('//')) break;
  header.push(line);
}
const bin = path.join(dist, 'bin.cjs');
writeFileSync(bin, `${header.join('\n')}\n${readFileSync(bin, 'utf8').replace(/^#!.*\n/, '')}`);
chmodSync(bin, 0o755);

#!/usr/bin/env node
// `npm run build` (after `tsc` has type-checked src/): bundles src/bin.ts into dist/ with
// esbuild. dist/bin.js is the entry, and each part loaded on demand (check, generate, the Vault
// client, …) is a chunk beside it, so a run loads a handful of files where tsc's output had ~35
// modules for Node's ESM loader to resolve, read and link: B2 15–30 ms faster, `version` the
// same (README "Performance"). Dependencies stay in node_modules.
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
  outdir: dist,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  logLevel: 'warning',
});

// esbuild keeps the `#!` line but drops comments; the launcher's first lines (sh reads them,
// Node skips them as comments; see src/bin.ts) go back on top, as they stand in the source.
const header = [];
for (const line of readFileSync(entry, 'utf8').split('\n')) {
  if (!line.startsWith('#!') && !line.startsWith('//')) break;
  header.push(line);
}
const bin = path.join(dist, 'bin.js');
writeFileSync(bin, `${header.join('\n')}\n${readFileSync(bin, 'utf8').replace(/^#!.*\n/, '')}`);
chmodSync(bin, 0o755);

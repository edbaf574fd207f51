#!/usr/bin/env node
// Installs a real helm v3 binary built from the Go module proxy and prints its path.
//
// Why build instead of download: the only network here (and in CI) is the package
// registries, so the release tarballs on get.helm.sh are out of reach, while
// `go install helm.sh/helm/v3/cmd/helm@vX` works through the Go module proxy.
//
// The binary is cached under ${XDG_CACHE_HOME:-~/.cache}/vaultfill/tools/helm-<version>/helm;
// a second run is a no-op that prints the same path. A cold build takes minutes on 2 cores.
//
// Usage: node scripts/install-helm.mjs [--version v3.x.y] [--quiet]
// Environment: VAULTFILL_HELM_VERSION overrides the default version;
//              VAULTFILL_TOOLS_DIR overrides the cache root (…/tools).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

// v3.22.0 passes `go get` with Go 1.26 (the machine's Go); newer v3 releases may need a newer Go.
const DEFAULT_VERSION = 'v3.22.0';

const { values } = parseArgs({
  options: {
    version: { type: 'string' },
    quiet: { type: 'boolean', default: false },
  },
});

const version = values.version ?? process.env.VAULTFILL_HELM_VERSION ?? DEFAULT_VERSION;
if (!/^v3\.\d+\.\d+$/.test(version)) {
  fail(`helm version must look like v3.X.Y, got ${JSON.stringify(version)}`);
}

const cacheRoot = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
const toolsDir = process.env.VAULTFILL_TOOLS_DIR || join(cacheRoot, 'vaultfill', 'tools');
const installDir = join(toolsDir, `helm-${version}`);
const helmPath = join(installDir, 'helm');

const log = (msg) => {
  if (!values.quiet) process.stderr.write(`install-helm: ${msg}\n`);
};

if (existsSync(helmPath) && works(helmPath)) {
  log(`cached: ${helmPath}`);
  process.stdout.write(`${helmPath}\n`);
  process.exit(0);
}

const go = spawnSync('go', ['version'], { encoding: 'utf8' });
if (go.error || go.status !== 0) {
  fail('the `go` command is needed to build helm (go install helm.sh/helm/v3/cmd/helm)');
}

// Build into a scratch dir next to the final one, then rename: a build that is killed
// half way never leaves a broken binary at the cached path.
const scratch = `${installDir}.tmp-${process.pid}`;
rmSync(scratch, { recursive: true, force: true });
mkdirSync(scratch, { recursive: true });

const started = Date.now();
log(`building helm ${version} with ${go.stdout.trim()} (cold builds take several minutes)…`);
const build = spawnSync(
  'go',
  [
    'install',
    '-trimpath',
    // Stamp the version like the release build does, so `helm version` reports it.
    `-ldflags=-s -w -X helm.sh/helm/v3/internal/version.version=${version}`,
    `helm.sh/helm/v3/cmd/helm@${version}`,
  ],
  {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, GOBIN: scratch, CGO_ENABLED: '0' },
  },
);
if (build.error || build.status !== 0) {
  rmSync(scratch, { recursive: true, force: true });
  fail(`go install helm.sh/helm/v3/cmd/helm@${version} failed (exit ${build.status ?? build.error})`);
}

rmSync(installDir, { recursive: true, force: true });
renameSync(scratch, installDir);
if (!works(helmPath)) fail(`built ${helmPath} but \`helm version\` does not run`);
log(`built in ${((Date.now() - started) / 1000).toFixed(0)} s: ${helmPath}`);
process.stdout.write(`${helmPath}\n`);

function works(bin) {
  const r = spawnSync(bin, ['version', '--short'], { encoding: 'utf8' });
  return !r.error && r.status === 0;
}

function fail(msg) {
  process.stderr.write(`install-helm: ${msg}\n`);
  process.exit(1);
}

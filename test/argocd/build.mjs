#!/usr/bin/env node
// Builds (or finds cached) Argo CD v3.6.1 from the Go module proxy (the recipe is build/go.mod)
// and prints the directory that holds it:
//
//   node test/argocd/build.mjs        -> prints /…/<key>/argocd
//   import { ensureArgoCD } from './build.mjs'
//
// Directory: ${XDG_CACHE_HOME:-$HOME/.cache}/vaultfill/argocd/<key>/, keyed by build/go.mod,
// build/go.sum, the toolchain and this file:
//   argocd                         the one binary; it picks its command from its own name,
//   argocd-repo-server, argocd-application-controller, argocd-cmp-server
//                                  hard links to it (a link is also what a container can mount)
//   git-verify-wrapper.sh          argo-cd's hack/ script: v3.6.1's repo-server runs it by name
//                                  on every generation (util/git/client.go), so this directory
//                                  goes first on the repo-server's PATH; `argocd` there is also
//                                  its GIT_ASKPASS
//   crds/*.yaml                    argo-cd's manifests/crds, for the test cluster
// All copied from the module cache at build time, nothing from it is committed.
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { goBuildCache, goCommand, printPathWhenRun } from '../helpers/go-build-cache.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
export const sourceDir = path.join(here, 'build');
export const ARGOCD_MODULE = 'github.com/argoproj/argo-cd/v3';
export const COMMANDS = ['argocd-repo-server', 'argocd-application-controller', 'argocd-cmp-server'];
const CRDS = ['application-crd.yaml', 'applicationset-crd.yaml', 'appproject-crd.yaml'];

/** Puts the command links, the wrapper script and the CRDs beside the binary. */
async function finish(dir, binary, env) {
  for (const name of COMMANDS) {
    await fs.rm(path.join(dir, name), { force: true });
    await fs.link(binary, path.join(dir, name));
  }
  const { stdout } = await promisify(execFile)(goCommand(), ['list', '-m', '-f', '{{.Dir}}', ARGOCD_MODULE], { cwd: sourceDir, env });
  const moduleDir = stdout.trim();
  const wrapper = path.join(dir, 'git-verify-wrapper.sh');
  await fs.copyFile(path.join(moduleDir, 'hack', 'git-verify-wrapper.sh'), wrapper);
  await fs.chmod(wrapper, 0o755);
  await fs.mkdir(path.join(dir, 'crds'), { recursive: true });
  for (const crd of CRDS) {
    const to = path.join(dir, 'crds', crd);
    await fs.copyFile(path.join(moduleDir, 'manifests', 'crds', crd), to);
    await fs.chmod(to, 0o644); // the module cache's files are read-only
  }
}

// The binary is ~160 MB: one older build stays, for switching between branches.
const cache = goBuildCache({
  sourceDir,
  cacheName: 'argocd',
  binaryName: 'argocd',
  keepOldBuilds: 1,
  buildTarget: `${ARGOCD_MODULE}/cmd`,
  // What argo-cd's Makefile stamps; without it every component reports v99.99.99+unknown.
  ldflags: `-X ${ARGOCD_MODULE}/common.version=3.6.1 -X ${ARGOCD_MODULE}/common.gitTreeState=clean`,
  // v3.6.1's go.mod says go 1.27; the toolchain comes from the module proxy like any module.
  env: { GOTOOLCHAIN: 'go1.27.3' },
  keyFiles: [fileURLToPath(import.meta.url)],
  finish,
});

export const { cacheKey, cacheRoot } = cache;

/** Returns the directory holding an up-to-date Argo CD build (see the header), building it if needed. */
export async function ensureArgoCD() {
  return path.dirname(await cache.ensureBinary());
}

printPathWhenRun(import.meta.url, cache.ensureBinary);

// test/argocd/build/pluginconfig: plugin configs decoded strictly against Argo CD's PluginConfig.
const pluginConfig = goBuildCache({
  sourceDir,
  cacheName: 'argocd-pluginconfig',
  binaryName: 'pluginconfig',
  keepOldBuilds: 1,
  buildTarget: './pluginconfig',
  env: { GOTOOLCHAIN: 'go1.27.3' },
  keyFiles: [path.join(sourceDir, 'pluginconfig', 'main.go')],
});

/** The path of the strict plugin-config checker (see pluginconfig/main.go), building it if needed. */
export const ensurePluginConfigCheck = pluginConfig.ensureBinary;

#!/usr/bin/env node
// Builds (or finds cached) HashiCorp Vault's own CLI from test/vault/cli/ (Vault's main.go on
// the module version the test server uses) and prints the binary's path. The tests run its
// `vault proxy` (and `vault agent`) in front of the test Vault: test/helpers/vault-proxy.ts.
//
//   node test/vault/build-cli.mjs      -> prints /…/vault
//   import { ensureVaultCliBinary } from './build-cli.mjs'
//
// Binary: ${XDG_CACHE_HOME:-$HOME/.cache}/vaultfill/vault-cli/<key>/vault, keyed by the
// module's go.mod, go.sum and main.go; see ../helpers/go-build-cache.mjs for the cache and lock.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { goBuildCache, printPathWhenRun } from '../helpers/go-build-cache.mjs';

export const cliDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'cli');

// One older build (~300 MB: the whole CLI, every builtin plugin) stays, for switching between branches.
const cache = goBuildCache({
  sourceDir: cliDir,
  cacheName: 'vault-cli',
  binaryName: 'vault',
  keepOldBuilds: 1,
});

export const { cacheKey, cacheRoot } = cache;

/** Returns the path of an up-to-date `vault` binary, building it if needed. */
export const ensureVaultCliBinary = cache.ensureBinary;

printPathWhenRun(import.meta.url, ensureVaultCliBinary);

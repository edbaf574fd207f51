#!/usr/bin/env node
// Builds (or finds cached) the real-Vault test server in test/vault/server/ and
// prints the binary's path.
//
//   node test/vault/build.mjs         -> prints /…/vault-test-server
//   import { ensureVaultBinary } from './build.mjs'
//
// Binary: ${XDG_CACHE_HOME:-$HOME/.cache}/vaultfill/test-vault/<key>/vault-test-server, keyed
// by the server's Go sources; see ../helpers/go-build-cache.mjs for the cache and the lock.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { goBuildCache, printPathWhenRun } from '../helpers/go-build-cache.mjs';

export const serverDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'server');

// Two older builds (~84 MB each) stay, for switching between branches.
const cache = goBuildCache({
  sourceDir: serverDir,
  cacheName: 'test-vault',
  binaryName: 'vault-test-server',
  keepOldBuilds: 2,
});

export const { cacheKey, cacheRoot } = cache;

/** Returns the path of an up-to-date vault-test-server binary, building it if needed. */
export const ensureVaultBinary = cache.ensureBinary;

printPathWhenRun(import.meta.url, ensureVaultBinary);

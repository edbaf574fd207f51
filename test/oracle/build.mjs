#!/usr/bin/env node
// Builds (or finds cached) the Kubernetes YAML reader in test/oracle/k8s-yaml/ and prints the
// binary's path.
//
//   node test/oracle/build.mjs        -> prints /…/k8s-yaml
//   import { ensureK8sYamlBinary } from './build.mjs'
//
// Binary: ${XDG_CACHE_HOME:-$HOME/.cache}/vaultfill/k8s-yaml/<key>/k8s-yaml, keyed by the
// program's Go sources; see ../helpers/go-build-cache.mjs for the cache and the lock.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { goBuildCache, printPathWhenRun } from '../helpers/go-build-cache.mjs';

export const sourceDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'k8s-yaml');

// The binary is ~6 MB: a few old builds cost little and make switching branches free.
const cache = goBuildCache({ sourceDir, cacheName: 'k8s-yaml', binaryName: 'k8s-yaml', keepOldBuilds: 4 });

export const { cacheKey, cacheRoot } = cache;

/** Returns the path of an up-to-date k8s-yaml binary, building it if needed. */
export const ensureK8sYamlBinary = cache.ensureBinary;

printPathWhenRun(import.meta.url, ensureK8sYamlBinary);

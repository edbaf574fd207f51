#!/usr/bin/env node
// Builds (or finds cached) Go's proxy rules (golang.org/x/net/http/httpproxy, what net/http's
// ProxyFromEnvironment vendors) in test/oracle/httpproxy/, and prints the binary's path.
//
//   node test/oracle/build-httpproxy.mjs   -> prints /…/httpproxy
//   import { ensureHttpProxyBinary } from './build-httpproxy.mjs'
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { goBuildCache, printPathWhenRun } from '../helpers/go-build-cache.mjs';

export const sourceDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'httpproxy');

const cache = goBuildCache({ sourceDir, cacheName: 'httpproxy', binaryName: 'httpproxy', keepOldBuilds: 2 });

/** Returns the path of an up-to-date httpproxy binary, building it if needed. */
export const ensureHttpProxyBinary = cache.ensureBinary;

printPathWhenRun(import.meta.url, ensureHttpProxyBinary);

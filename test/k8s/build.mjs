#!/usr/bin/env node
// Builds (or finds cached) the test cluster's control plane in test/k8s/control-plane/ — etcd
// v3.6.16, kube-apiserver and kube-controller-manager v1.34.4 from the Go module proxy, in one
// binary whose first argument names the server — and prints the binary's path.
//
//   node test/k8s/build.mjs           -> prints /…/control-plane
//   import { ensureControlPlaneBinary } from './build.mjs'
//
// Binary: ${XDG_CACHE_HOME:-$HOME/.cache}/vaultfill/k8s-control-plane/<key>/control-plane, keyed
// by the module's go.mod, go.sum and main.go; see ../helpers/go-build-cache.mjs.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { goBuildCache, printPathWhenRun } from '../helpers/go-build-cache.mjs';

export const sourceDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'control-plane');

export const KUBERNETES_VERSION = 'v1.34.4';

// Kubernetes' release build stamps its version with these -X flags (hack/lib/version.sh);
// without them the API server reports v0.0.0-master, which Argo CD passes on to helm as the
// cluster's version.
const [major, minor] = KUBERNETES_VERSION.slice(1).split('.');
const ldflags = ['k8s.io/component-base/version', 'k8s.io/client-go/pkg/version']
  .flatMap((pkg) => [`-X ${pkg}.gitVersion=${KUBERNETES_VERSION}`, `-X ${pkg}.gitMajor=${major}`, `-X ${pkg}.gitMinor=${minor}`, `-X ${pkg}.gitTreeState=clean`])
  .join(' ');

// One older build stays (the binary is large), for switching between branches.
const cache = goBuildCache({ sourceDir, cacheName: 'k8s-control-plane', binaryName: 'control-plane', keepOldBuilds: 1, ldflags });

export const { cacheKey, cacheRoot } = cache;

/** Returns the path of an up-to-date control-plane binary, building it if needed. */
export const ensureControlPlaneBinary = cache.ensureBinary;

printPathWhenRun(import.meta.url, ensureControlPlaneBinary);

#!/usr/bin/env bash
# Assembles the vaultfill sidecar's files into a root-filesystem directory.
#
#   scripts/image-build.sh <rootfs-dir>
#
# The Dockerfile runs this in its `assemble` stage and copies the result into the runtime
# image; test/image/ builds that image and runs it. It also runs outside Docker, into any
# directory, to look at the tree without building the image. It lays out:
#
#   <rootfs>/opt/vaultfill/                     dist/ + production node_modules (npm ci --omit=dev)
#   <rootfs>/usr/local/bin/vaultfill            launcher
#   <rootfs>/usr/local/bin/argocd-vault-plugin  the same launcher, for AVP-era plugin configs
#   <rootfs>/usr/local/bin/{helm,kustomize}     when HELM_BIN / KUSTOMIZE_BIN are given
#   <rootfs>/home/argocd/cmp-server/config/plugin.yaml              default plugin (plain)
#   <rootfs>/home/argocd/cmp-server/config-variants/<v>/plugin.yaml plain, helm, kustomize
#
# Environment:
#   VAULTFILL_SRC        source tree holding dist/ (run `npm run build` first), package.json,
#                        package-lock.json, plugin.yaml and cmp/; default: this script's repo
#   VAULTFILL_NPM_FLAGS  extra flags for `npm ci`, e.g. "--prefer-offline" with a warm cache
#                        (npm's own npm_config_cache chooses the cache directory)
#   HELM_BIN, KUSTOMIZE_BIN  binaries to install into <rootfs>/usr/local/bin
set -euo pipefail

usage() { echo "usage: $0 <rootfs-dir>" >&2; exit 2; }
[ $# -eq 1 ] || usage
[ -n "$1" ] || usage

step() { echo "image-build: $*" >&2; }

mkdir -p -- "$1"
rootfs="$(cd -- "$1" && pwd -P)"
src="${VAULTFILL_SRC:-$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)}"

for f in dist/bin.cjs package.json package-lock.json plugin.yaml \
  cmp/plain/plugin.yaml cmp/helm/plugin.yaml cmp/kustomize/plugin.yaml; do
  if [ ! -f "$src/$f" ]; then
    hint=""
    [ "$f" = dist/bin.cjs ] && hint=" (run \`npm run build\` first)"
    echo "image-build: missing $src/$f$hint" >&2
    exit 1
  fi
done

# 1. The application: compiled JavaScript and production dependencies only.
app="$rootfs/opt/vaultfill"
step "assembling $app"
rm -rf -- "$app"
mkdir -p -- "$app"
cp -R -- "$src/dist" "$app/dist"
chmod 0755 -- "$app/dist/bin.cjs" # the launchers exec it: its first lines start Node with its flags
cp -- "$src/package.json" "$src/package-lock.json" "$app/"
# --ignore-scripts: no dependency of ours needs an install script, and none should run.
# shellcheck disable=SC2086 # VAULTFILL_NPM_FLAGS is a list of flags
(cd -- "$app" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=warn ${VAULTFILL_NPM_FLAGS:-} >&2)
# The lock file has served its purpose; keep package.json (type: module, version).
rm -f -- "$app/package-lock.json"

# 2. Launchers. They find the app relative to their own real location, so the same files
#    work at / in the image and under a temporary rootfs in the tests.
bindir="$rootfs/usr/local/bin"
mkdir -p -- "$bindir"
for name in vaultfill argocd-vault-plugin; do
  step "writing $bindir/$name"
  cat > "$bindir/$name" <<'LAUNCHER'
#!/bin/sh
# Installed by vaultfill's scripts/image-build.sh.
self="$(readlink -f -- "$0")"
exec "${self%/*}/../../../opt/vaultfill/dist/bin.cjs" "$@"
LAUNCHER
  chmod 0755 "$bindir/$name"
done

# 3. Plugin configurations for Argo CD's argocd-cmp-server.
cmpdir="$rootfs/home/argocd/cmp-server"
step "copying plugin configs to $cmpdir"
mkdir -p -- "$cmpdir/config"
cp -- "$src/plugin.yaml" "$cmpdir/config/plugin.yaml"
for variant in plain helm kustomize; do
  mkdir -p -- "$cmpdir/config-variants/$variant"
  cp -- "$src/cmp/$variant/plugin.yaml" "$cmpdir/config-variants/$variant/plugin.yaml"
done

# 4. Renderers, when given.
for pair in "helm:${HELM_BIN:-}" "kustomize:${KUSTOMIZE_BIN:-}"; do
  name="${pair%%:*}" bin="${pair#*:}"
  [ -n "$bin" ] || continue
  step "installing $name from $bin"
  install -m 0755 -- "$bin" "$bindir/$name"
done

# 5. Smoke test: the launcher starts the CLI.
"$bindir/vaultfill" version >&2
step "done: $rootfs"

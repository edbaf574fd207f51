# syntax=docker/dockerfile:1
#
# vaultfill as an Argo CD config-management-plugin sidecar (CMP v2).
#
#   docker build -t ghcr.io/example/vaultfill:0.1.0 .
#
# The image runs Argo CD's argocd-cmp-server, which Argo CD itself copies into the shared
# /var/run/argocd volume; see examples/argocd/repo-server-patch.yaml and README.md, "Install in Argo CD".
# What goes into the image is assembled by scripts/image-build.sh. The test suite builds this
# file as it stands (test/image/) and runs the image as the sidecars.

ARG NODE_VERSION=20
ARG GO_VERSION=1.26

# --- build: type-check and bundle (scripts/build.mjs) -----------------------------------
FROM node:${NODE_VERSION}-bookworm AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/build.mjs ./scripts/build.mjs
COPY src ./src
RUN npm run build

# --- tools: helm and kustomize, built from source with the Go toolchain ----------------
FROM golang:${GO_VERSION}-bookworm AS tools
# Keep HELM_VERSION in step with scripts/install-helm.mjs.
ARG HELM_VERSION=v3.22.0
ARG KUSTOMIZE_VERSION=v5.8.2
ENV CGO_ENABLED=0 GOBIN=/out
RUN go install -trimpath \
      -ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=${HELM_VERSION}" \
      "helm.sh/helm/v3/cmd/helm@${HELM_VERSION}" \
 && go install -trimpath -ldflags="-s -w" \
      "sigs.k8s.io/kustomize/kustomize/v5@${KUSTOMIZE_VERSION}" \
 && /out/helm version --short \
 && /out/kustomize version

# --- assemble: the runtime file tree, by the same script the tests run ------------------
FROM node:${NODE_VERSION}-bookworm AS assemble
WORKDIR /src
COPY package.json package-lock.json plugin.yaml ./
COPY cmp ./cmp
COPY scripts/image-build.sh ./scripts/image-build.sh
COPY --from=build /src/dist ./dist
COPY --from=tools /out/helm /out/kustomize /tools/
RUN HELM_BIN=/tools/helm KUSTOMIZE_BIN=/tools/kustomize bash scripts/image-build.sh /rootfs

# --- runtime -----------------------------------------------------------------------------
FROM node:${NODE_VERSION}-bookworm-slim
# ca-certificates: helm verifies chart repositories with the system store (Node has its own).
# Unpinned on purpose: the CA store must follow Debian's security updates.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 999 argocd \
 && useradd --uid 999 --gid 999 --home-dir /home/argocd --create-home --shell /usr/sbin/nologin argocd
COPY --from=assemble /rootfs/ /
# Argo CD runs sidecars with a read-only root filesystem and an emptyDir at /tmp, so every
# cache goes under /tmp.
ENV HOME=/home/argocd \
    XDG_CACHE_HOME=/tmp/.cache \
    HELM_CACHE_HOME=/tmp/helm/cache \
    HELM_CONFIG_HOME=/tmp/helm/config \
    HELM_DATA_HOME=/tmp/helm/data
# Argo CD requires the sidecar to run as user 999.
USER 999
WORKDIR /home/argocd
ENTRYPOINT ["/var/run/argocd/argocd-cmp-server"]

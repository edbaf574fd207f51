# Stand-in for Docker Hub's golang:<version>-bookworm, which cannot be pulled here. Built by
# ../stand-ins.mjs: Debian bookworm (debootstrap, minbase) plus the Go toolchain from the Go
# module proxy (golang.org/toolchain), with the official image's environment. The official
# image also carries gcc and git; our Dockerfile builds with CGO_ENABLED=0 from the module
# proxy, so only the CA store is added, with the CA certificates the machine adds to its own
# (ca/, from /usr/local/share/ca-certificates; see node.Dockerfile).
ARG BASE
# hadolint ignore=DL3006
FROM ${BASE}
COPY ca/ /usr/local/share/ca-certificates/
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY go/ /usr/local/go/
ARG GOLANG_VERSION
# The machine's module proxy and checksum database: the official image sets neither and uses
# Go's defaults.
ARG GOPROXY
ARG GOSUMDB
ENV GOLANG_VERSION=${GOLANG_VERSION} \
    GOTOOLCHAIN=local \
    GOPATH=/go \
    GOPROXY=${GOPROXY} \
    GOSUMDB=${GOSUMDB} \
    PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
RUN mkdir -p /go/src /go/bin && chmod -R 1777 /go
WORKDIR /go

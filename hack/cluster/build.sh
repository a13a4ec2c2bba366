#!/usr/bin/env bash
# Builds the local control plane from Go modules: etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler, kubectl, kwok and kwokctl.
# Binaries are cached outside git in a versioned directory; a binary that is
# already there is not rebuilt.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/versions.sh"

command -v go >/dev/null || { echo "build.sh: Go 1.26 or newer is needed to build the control plane (https://go.dev/dl)" >&2; exit 1; }
mkdir -p "$CLUSTER_BIN"
export CGO_ENABLED=0 GOFLAGS=-mod=mod
log() { printf '[cluster-build] %s\n' "$*" >&2; }
missing() { for b in "$@"; do [ -x "$CLUSTER_BIN/$b" ] || return 0; done; return 1; }

build_k8s() {
  local minor=${K8S_VERSION#1.}; minor=${minor%%.*}
  local ld="-s -w" p
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld="$ld -X $p.gitVersion=v$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
  done
  log "building Kubernetes v$K8S_VERSION (kube-apiserver, kube-controller-manager, kube-scheduler, kubectl)"
  (cd "$here/k8s" && go build -trimpath -tags selinux,notest,grpcnotrace -ldflags "$ld" -o "$CLUSTER_BIN/" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl)
}

build_etcd() {
  log "building etcd v$ETCD_VERSION"
  (cd "$here/etcd" && go build -trimpath -ldflags "-s -w" -o "$CLUSTER_BIN/etcd" go.etcd.io/etcd/server/v3)
}

build_kwok() {
  log "building kwok and kwokctl v$KWOK_VERSION"
  (cd "$here/kwok" && go build -trimpath -ldflags "-s -w" -o "$CLUSTER_BIN/" sigs.k8s.io/kwok/cmd/kwok sigs.k8s.io/kwok/cmd/kwokctl)
}

start=$(date +%s)
missing etcd && build_etcd
missing kwok kwokctl && build_kwok
missing kube-apiserver kube-controller-manager kube-scheduler kubectl && build_k8s
log "binaries ready in $CLUSTER_BIN ($(( $(date +%s) - start ))s)"

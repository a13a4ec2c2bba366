#!/usr/bin/env bash
# Builds the node tier's binaries from Go modules: kubelet and kube-proxy from
# k8s.io/kubernetes (the control plane's wrapper module, so the same version and
# the same build cache), containerd 2.x with its runc shim and ctr, and the pause
# program, and Prometheus with Kubernetes discovery. A binary that is already
# there is not rebuilt.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/versions.sh"

command -v go >/dev/null || { echo "node/build.sh: Go 1.26 or newer is needed to build the node tier (https://go.dev/dl)" >&2; exit 1; }
mkdir -p "$CLUSTER_BIN" "$NODE_BIN"
export CGO_ENABLED=0 GOFLAGS=-mod=mod
log() { printf '[node-build] %s\n' "$*" >&2; }
missing() { local dir=$1 b; shift; for b in "$@"; do [ -x "$dir/$b" ] || return 0; done; return 1; }

build_k8s_node() {
  local minor=${K8S_VERSION#1.}; minor=${minor%%.*}
  local ld="-s -w" p
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld="$ld -X $p.gitVersion=v$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
  done
  log "building kubelet and kube-proxy v$K8S_VERSION"
  (cd "$here/../cluster/k8s" && go build -trimpath -tags selinux,notest,grpcnotrace -ldflags "$ld" -o "$CLUSTER_BIN/" \
    k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-proxy)
}

# Static, without btrfs (it needs cgo); the node uses the overlayfs snapshotter.
build_containerd() {
  local pkg=github.com/containerd/containerd/v2
  log "building containerd v$CONTAINERD_VERSION (containerd, containerd-shim-runc-v2, ctr)"
  (cd "$here/containerd" && go build -trimpath -tags "urfave_cli_no_docs no_btrfs" \
    -ldflags "-s -w -X $pkg/version.Version=v$CONTAINERD_VERSION -X $pkg/version.Revision=go-module" -o "$NODE_BIN/" \
    $pkg/cmd/containerd $pkg/cmd/containerd-shim-runc-v2 $pkg/cmd/ctr)
}

# Only the Kubernetes service discovery, so the build skips every cloud SDK.
build_prometheus() {
  log "building prometheus (module v$PROMETHEUS_MODULE_VERSION, Kubernetes discovery only)"
  (cd "$here/prometheus" && go build -trimpath -tags "remove_all_sd enable_kubernetes_sd" -ldflags "-s -w" \
    -o "$NODE_BIN/prometheus" github.com/prometheus/prometheus/cmd/prometheus)
}

build_pause() {
  log "building pause"
  (cd "$here/pause" && go build -trimpath -ldflags "-s -w" -o "$NODE_BIN/pause" .)
}

start=$(date +%s)
missing "$NODE_BIN" pause && build_pause
missing "$NODE_BIN" containerd containerd-shim-runc-v2 ctr && build_containerd
missing "$CLUSTER_BIN" kubelet kube-proxy && build_k8s_node
missing "$NODE_BIN" prometheus && build_prometheus
log "binaries ready in $CLUSTER_BIN and $NODE_BIN ($(( $(date +%s) - start ))s)"

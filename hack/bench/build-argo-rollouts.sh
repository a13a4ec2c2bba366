#!/usr/bin/env bash
# Builds the Argo Rollouts controller from its Go module, for `npm run bench -- --peers`, and keeps its
# CRDs beside it. Cached like the cluster binaries: an existing binary is not rebuilt. Argo's go.mod pins
# k8s.io modules with replace directives, which only apply in the main module, so the build runs in a
# small wrapper module whose replace block is taken from Argo's own go.mod.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../cluster/versions.sh"
ARGO_ROLLOUTS_VERSION=${ARGO_ROLLOUTS_VERSION:-1.10.1}
out=$CLUSTER_CACHE_ROOT/argo-rollouts-$ARGO_ROLLOUTS_VERSION
log() { printf '[argo-build] %s\n' "$*" >&2; }
command -v go >/dev/null || { echo "build-argo-rollouts.sh: Go is needed to build Argo Rollouts" >&2; exit 1; }
if [ -x "$out/bin/rollouts-controller" ] && [ -d "$out/crds" ]; then echo "$out"; exit 0; fi
mkdir -p "$out/bin" "$out/crds" "$out/module"
export CGO_ENABLED=0 GOFLAGS=-mod=mod
mod=github.com/argoproj/argo-rollouts
dir=$(go mod download -json "$mod@v$ARGO_ROLLOUTS_VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
[ -d "$dir" ] || { echo "build-argo-rollouts.sh: go mod download of $mod@v$ARGO_ROLLOUTS_VERSION failed" >&2; exit 1; }
cd "$out/module"
{
  echo "module msop.dev/bench/argo-rollouts"
  echo
  grep -m1 '^go ' "$dir/go.mod"
  echo
  echo "require $mod v$ARGO_ROLLOUTS_VERSION"
  echo
  awk '/^replace \($/,/^\)$/' "$dir/go.mod"
} > go.mod
log "building Argo Rollouts v$ARGO_ROLLOUTS_VERSION"
go build -trimpath -ldflags "-s -w" -o "$out/bin/rollouts-controller" "$mod/cmd/rollouts-controller"
cp "$dir"/manifests/crds/*-crd.yaml "$out/crds/"
chmod -R u+w "$out/crds"
echo "$out"

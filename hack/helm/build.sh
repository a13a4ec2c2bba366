#!/usr/bin/env bash
# Builds the helm CLI from its Go module (helm.sh/helm/v3/cmd/helm, pinned by
# hack/helm/go.mod and go.sum) into the cache directory of the control-plane
# binaries. Built only when missing or when `helm version` is not HELM_VERSION.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../cluster/versions.sh"

helm=$CLUSTER_BIN/helm
if [ -x "$helm" ] && [ "$("$helm" version --template '{{.Version}}' 2>/dev/null)" = "v$HELM_VERSION" ]; then
  exit 0
fi
command -v go >/dev/null || { echo "hack/helm/build.sh: Go 1.26 or newer is needed to build helm (https://go.dev/dl)" >&2; exit 1; }
mkdir -p "$CLUSTER_BIN"
export CGO_ENABLED=0 GOFLAGS=-mod=mod
# The same ldflags as helm's own Makefile: the version, and the Kubernetes version that
# `helm template` and `helm lint` assume without a cluster (client-go 0.N is Kubernetes 1.N).
k8s_minor=$(cd "$here" && go list -m -f '{{.Version}}' k8s.io/client-go | cut -d. -f2)
ld="-s -w -X helm.sh/helm/v3/internal/version.version=v$HELM_VERSION -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
for p in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
  ld="$ld -X $p.k8sVersionMajor=1 -X $p.k8sVersionMinor=$k8s_minor"
done
printf '[helm-build] building helm v%s\n' "$HELM_VERSION" >&2
start=$(date +%s)
(cd "$here" && go build -trimpath -ldflags "$ld" -o "$helm.tmp.$$" helm.sh/helm/v3/cmd/helm)
# A temporary name of its own: two builds at once (two test runs) must not take each other's file.
mv "$helm.tmp.$$" "$helm"
printf '[helm-build] %s ready (%ss)\n' "$("$helm" version --short)" "$(( $(date +%s) - start ))" >&2

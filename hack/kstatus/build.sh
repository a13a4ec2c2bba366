#!/usr/bin/env bash
# Builds hack/kstatus (a small CLI over sigs.k8s.io/cli-utils' kstatus, pinned by go.mod and
# go.sum) into the cache directory of the control-plane binaries. Built only when missing or
# when it was built with another cli-utils version.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../cluster/versions.sh"

kstatus=$CLUSTER_BIN/kstatus
want=$(awk '$1 == "sigs.k8s.io/cli-utils" { print $2 }' "$here/go.mod")
if [ -x "$kstatus" ] && [ "$("$kstatus" -version 2>/dev/null)" = "$want" ]; then
  exit 0
fi
command -v go >/dev/null || { echo "hack/kstatus/build.sh: Go 1.26 or newer is needed to build kstatus (https://go.dev/dl)" >&2; exit 1; }
mkdir -p "$CLUSTER_BIN"
export CGO_ENABLED=0 GOFLAGS=-mod=mod
printf '[kstatus-build] building kstatus with sigs.k8s.io/cli-utils %s\n' "$want" >&2
start=$(date +%s)
(cd "$here" && go build -trimpath -ldflags "-s -w" -o "$kstatus.tmp.$$" .)
mv "$kstatus.tmp.$$" "$kstatus"
printf '[kstatus-build] ready (%ss)\n' "$(( $(date +%s) - start ))" >&2

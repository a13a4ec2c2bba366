#!/usr/bin/env bash
# Stops the local control plane and removes its state.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/env.sh"
[ -x "$CLUSTER_BIN/kwokctl" ] || exit 0
"$CLUSTER_BIN/kwokctl" delete cluster --name "$CLUSTER_NAME" >&2 || true

#!/usr/bin/env bash
# Runs the end-to-end tests (test/e2e) against a fresh local control plane named
# msop-e2e, with the Debian Prometheus, and removes the cluster afterwards,
# whatever the outcome. Extra arguments go to jest (e.g. -t 'a good canary').
set -euo pipefail
cd "$(dirname "$0")/.."
export CLUSTER_NAME=${CLUSTER_NAME:-msop-e2e}
. hack/cluster/env.sh
# Prometheus first: it is the step that may need root, and it fails fast with the way out.
hack/e2e/prometheus.sh >/dev/null
trap 'hack/cluster/down.sh >/dev/null 2>&1 || true' EXIT
hack/cluster/up.sh
export MSOP_TEST_KUBECONFIG=$KUBECONFIG MSOP_TEST_BIN=$CLUSTER_BIN
MSOP_TEST_ROUTER_CRDS=$(hack/cluster/router-crds.sh)
export MSOP_TEST_ROUTER_CRDS
npm run -s test:e2e -- "$@"

#!/usr/bin/env bash
# Runs the cluster tests against a fresh local control plane and removes it
# afterwards, whatever the outcome.
set -euo pipefail
cd "$(dirname "$0")/.."
export CLUSTER_NAME=${CLUSTER_NAME:-msop-test}
. hack/cluster/env.sh
trap 'hack/cluster/down.sh >/dev/null 2>&1 || true' EXIT
hack/cluster/up.sh
# The Helm tests use helm, and the GitOps health test kstatus, from the same cache directory as the cluster binaries.
hack/helm/build.sh
hack/kstatus/build.sh
export MSOP_TEST_KUBECONFIG=$KUBECONFIG MSOP_TEST_BIN=$CLUSTER_BIN
MSOP_TEST_ROUTER_CRDS=$(hack/cluster/router-crds.sh)
export MSOP_TEST_ROUTER_CRDS
npm run -s test:cluster -- "$@"

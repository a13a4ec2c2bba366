#!/usr/bin/env bash
# Runs the chaos suite (test/chaos) against a fresh local control plane named
# msop-chaos, with the Debian Prometheus for the analysis outages, and removes the
# cluster afterwards, whatever the outcome. MSOP_CHAOS_SHORT=1 is the short form
# that `make test` runs; MSOP_CHAOS_SEED=<n> replays a run's random choices.
# Extra arguments go to jest (e.g. test/chaos/sigkill.test.ts).
set -euo pipefail
cd "$(dirname "$0")/.."
export CLUSTER_NAME=${CLUSTER_NAME:-msop-chaos}
. hack/cluster/env.sh
# The operator runs from dist/main.js as a child process.
npm run -s build
# Prometheus first: it is the step that may need root, and it fails fast with the way out.
hack/e2e/prometheus.sh >/dev/null
trap 'hack/cluster/down.sh >/dev/null 2>&1 || true' EXIT
hack/cluster/up.sh
export MSOP_TEST_KUBECONFIG=$KUBECONFIG MSOP_TEST_BIN=$CLUSTER_BIN
MSOP_TEST_ROUTER_CRDS=$(hack/cluster/router-crds.sh)
export MSOP_TEST_ROUTER_CRDS
NODE_OPTIONS="--experimental-vm-modules --disable-warning=ExperimentalWarning" \
  node_modules/.bin/node node_modules/.bin/jest --selectProjects chaos --runInBand "$@"

#!/usr/bin/env bash
# Runs the chaos suite (test/chaos) against a fresh local control plane named
# msop-chaos and removes the cluster afterwards, whatever the outcome.
#
# The full run (npm run test:chaos) has 50 operator SIGKILLs and the Prometheus
# outages, with the Debian Prometheus of the end-to-end tier. MSOP_CHAOS_SHORT=1
# (make test) is the short form: 6 SIGKILLs (one per kind of release), the API
# server outage, the leader kill and the hanging webhook; it leaves out
# prometheus.test.ts, and says so. MSOP_CHAOS_SEED=<n> replays a run's random
# choices; MSOP_CHAOS_KILLS=<n> sets the number of SIGKILLs. Extra arguments go
# to jest (e.g. test/chaos/sigkill.test.ts).
set -euo pipefail
cd "$(dirname "$0")/.."
export CLUSTER_NAME=${CLUSTER_NAME:-msop-chaos}
. hack/cluster/env.sh
files=("$@")
if [ "${MSOP_CHAOS_SHORT:-}" = 1 ]; then
  if [ ${#files[@]} -eq 0 ]; then
    files=(test/chaos/sigkill.test.ts test/chaos/apiserver.test.ts test/chaos/leader.test.ts test/chaos/webhook.test.ts)
    echo "[chaos] short form: ${files[*]} (the full run, npm run test:chaos, adds test/chaos/prometheus.test.ts)" >&2
  fi
else
  # Prometheus first: it is the step that may need root, and it fails fast with the way out.
  hack/e2e/prometheus.sh >/dev/null
fi
# The operator runs from dist/main.js as a child process.
npm run -s build
trap 'hack/cluster/down.sh >/dev/null 2>&1 || true' EXIT
hack/cluster/up.sh
export MSOP_TEST_KUBECONFIG=$KUBECONFIG MSOP_TEST_BIN=$CLUSTER_BIN
MSOP_TEST_ROUTER_CRDS=$(hack/cluster/router-crds.sh)
export MSOP_TEST_ROUTER_CRDS
NODE_OPTIONS="--experimental-vm-modules --disable-warning=ExperimentalWarning" \
  node_modules/.bin/node node_modules/.bin/jest --selectProjects chaos --runInBand "${files[@]}"

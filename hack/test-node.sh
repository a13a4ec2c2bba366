#!/usr/bin/env bash
# Runs the node tier (test/node) against a fresh cluster with one real node,
# msop-node, and removes it afterwards, whatever the outcome. Extra arguments go
# to jest (e.g. -t 'failover'). MSOP_NODE_REPETITIONS sets the zero-downtime
# scenarios' repetitions (default 2; `npm run test:node:full` runs 10).
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
. hack/node/env.sh
trap 'hack/node/down.sh >/dev/null 2>&1 || true' EXIT
hack/node/up.sh
export MSOP_TEST_KUBECONFIG=$KUBECONFIG MSOP_TEST_BIN=$CLUSTER_BIN MSOP_NODE_BIN=$NODE_BIN \
  MSOP_NODE_CONTAINERD_SOCK=$CONTAINERD_SOCK MSOP_NODE_NAME=$NODE_NAME MSOP_NODE_IP=$NODE_IP \
  MSOP_NODE_POD_LOGS=$NODE_STATE/kubelet/pod-logs MSOP_NODE_OPERATOR_IMAGE=$(cat "$NODE_IMAGES/msop.ref")
npm run -s test:node -- "$@"
echo "[node] node tier done in $(( $(date +%s) - start ))s" >&2

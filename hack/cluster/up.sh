#!/usr/bin/env bash
# Starts (or reuses) a local control plane: etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler and kwok as host processes, bound to
# 127.0.0.1, with fake nodes over two zones. Prints nothing but progress; the
# kubeconfig path is given by `hack/cluster/kubeconfig.sh`.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/env.sh"

"$here/build.sh"

if "$CLUSTER_BIN/kwokctl" get clusters 2>/dev/null | grep -qx "$CLUSTER_NAME" && kubectl get --raw /readyz >/dev/null 2>&1; then
  echo "[cluster] $CLUSTER_NAME is already running (kubeconfig: $KUBECONFIG)" >&2
else
  "$CLUSTER_BIN/kwokctl" delete cluster --name "$CLUSTER_NAME" >/dev/null 2>&1 || true
  mkdir -p "$KWOK_WORKDIR"
  # One config file per cluster: several clusters may be created at once.
  config=$KWOK_WORKDIR/kwok-$CLUSTER_NAME.yaml
  cat > "$config" <<YAML
kind: KwokctlConfiguration
apiVersion: config.kwok.x-k8s.io/v1alpha1
options:
  runtime: binary
  bindAddress: 127.0.0.1
  etcdBinary: $CLUSTER_BIN/etcd
  kubeApiserverBinary: $CLUSTER_BIN/kube-apiserver
  kubeControllerManagerBinary: $CLUSTER_BIN/kube-controller-manager
  kubeSchedulerBinary: $CLUSTER_BIN/kube-scheduler
  kwokControllerBinary: $CLUSTER_BIN/kwok
  kubectlBinary: $CLUSTER_BIN/kubectl
YAML
  start=$(date +%s)
  echo "[cluster] creating $CLUSTER_NAME" >&2
  # Extra component flags, as component=flag=value words (the peers benchmark raises kube-controller-manager's
  # client QPS this way).
  extra=()
  for arg in ${CLUSTER_EXTRA_ARGS:-}; do extra+=(--extra-args "$arg"); done
  "$CLUSTER_BIN/kwokctl" create cluster --name "$CLUSTER_NAME" -c "$config" "${extra[@]}" \
    --kubeconfig "$KUBECONFIG" --wait 3m >&2
  echo "[cluster] control plane up in $(( $(date +%s) - start ))s" >&2
fi

# Three fake nodes over two zones, so topology spread constraints have something to spread over.
kubectl apply --server-side --field-manager=msop-hack -f "$here/nodes.yaml" >/dev/null
kubectl wait --for=condition=Ready node --all --timeout=120s >/dev/null
# Pods need the default ServiceAccount, which kube-controller-manager creates shortly after start.
for _ in $(seq 1 120); do kubectl get serviceaccount default -n default >/dev/null 2>&1 && break; sleep 0.5; done
kubectl get serviceaccount default -n default >/dev/null
echo "[cluster] ready: $(kubectl get nodes --no-headers | wc -l) nodes; export KUBECONFIG=$KUBECONFIG" >&2

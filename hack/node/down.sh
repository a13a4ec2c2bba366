#!/usr/bin/env bash
# Stops the node tier and undoes what up.sh did: the pods (drained through the
# kubelet, so CNI releases their addresses), kubelet, kube-proxy (and its iptables
# rules, removed by `kube-proxy --cleanup`), containerd, the API server forward, the
# bridge and the control plane. The image store stays, so the next start is warm.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/env.sh"
log() { printf '[node] %s\n' "$*" >&2; }
pidfile() { echo "$NODE_STATE/run/$1.pid"; }
stop() {
  local p; p=$(cat "$(pidfile "$1")" 2>/dev/null) || return 0
  if kill -0 "$p" 2>/dev/null; then
    kill "$p"
    for _ in $(seq 1 40); do kill -0 "$p" 2>/dev/null || break; sleep 0.25; done
    kill -0 "$p" 2>/dev/null && kill -9 "$p"
  fi
  rm -f "$(pidfile "$1")"
}
ctr() { "$NODE_BIN/ctr" --address "$CONTAINERD_SOCK" -n k8s.io "$@"; }

# Drain: no new pods, every pod deleted, until the runtime has no task left.
if kubectl get --raw /readyz >/dev/null 2>&1 && kubectl get node "$NODE_NAME" >/dev/null 2>&1; then
  kubectl cordon "$NODE_NAME" >/dev/null 2>&1 || true
  kubectl delete pods --all-namespaces --field-selector "spec.nodeName=$NODE_NAME" --grace-period=1 --wait=false >/dev/null 2>&1 || true
  for _ in $(seq 1 120); do
    [ -z "$(ctr tasks ls -q 2>/dev/null)" ] && break
    sleep 0.5
  done
fi
stop kubelet
stop kube-proxy
# The kernel tunables the kubelet set, as they were before it first started.
if [ -f "$NODE_STATE/run/sysctl.saved" ]; then
  while read -r setting; do sysctl -q -w "$setting" || true; done < "$NODE_STATE/run/sysctl.saved"
  rm -f "$NODE_STATE/run/sysctl.saved"
fi
[ -x "$CLUSTER_BIN/kube-proxy" ] && "$CLUSTER_BIN/kube-proxy" --cleanup >/dev/null 2>&1 || true
# The kubelet's own chains (its canaries, the iptables-mode hint, and the filter that drops
# non-loopback packets to 127.0.0.0/8), which kube-proxy --cleanup leaves.
for ipt in iptables ip6tables; do
  command -v $ipt >/dev/null || continue
  for chain in INPUT OUTPUT; do while $ipt -D $chain -j KUBE-FIREWALL 2>/dev/null; do :; done; done
  $ipt -F KUBE-FIREWALL 2>/dev/null && $ipt -X KUBE-FIREWALL 2>/dev/null || true
  for table in mangle nat filter; do $ipt -t $table -X KUBE-KUBELET-CANARY 2>/dev/null || true; done
  $ipt -t mangle -X KUBE-IPTABLES-HINT 2>/dev/null || true
done
# Anything the drain left behind: the kubelet is gone, so stop the sandboxes by hand.
if [ -S "$CONTAINERD_SOCK" ]; then
  for task in $(ctr tasks ls -q 2>/dev/null); do ctr tasks kill -s SIGKILL "$task" >/dev/null 2>&1 || true; done
  sleep 1
  for task in $(ctr tasks ls -q 2>/dev/null); do ctr tasks delete -f "$task" >/dev/null 2>&1 || true; done
  for c in $(ctr containers ls -q 2>/dev/null); do ctr containers delete "$c" >/dev/null 2>&1 || true; done
fi
stop containerd
stop apiserver-forward
"$here/../cluster/down.sh" || true
# The kubelet's volume mounts (service account tokens, emptyDirs) and the sandboxes' /dev/shm.
grep -oE " $NODE_STATE/[^ ]+" /proc/mounts | sort -r | while read -r m; do umount -l "$m" || true; done
rm -rf "$NODE_STATE/kubelet" "$NODE_STATE/cni/ipam" "$NODE_STATE/containerd/state"
# Pods' interfaces still on the bridge (a sandbox the kubelet could not tear down), then the bridge.
for veth in $(ip -o link show master "$NODE_BRIDGE" 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1); do
  ip link del "$veth" >/dev/null 2>&1 || true
done
ip link del "$NODE_BRIDGE" >/dev/null 2>&1 || true
log "stopped"

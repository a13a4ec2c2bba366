#!/usr/bin/env bash
# Starts the node tier: a local control plane (kwokctl's binary runtime, as the
# other tiers) and one real worker node beside it: containerd with runc, kubelet,
# kube-proxy in iptables mode and Debian's CNI bridge. Builds and loads the images.
# Everything binds to loopback or to the node's bridge; `down.sh` undoes it all.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/env.sh"
log() { printf '[node] %s\n' "$*" >&2; }
[ "$(id -u)" -eq 0 ] || { echo "[node] the node tier runs a kubelet and containerd, which need root" >&2; exit 1; }

"$here/deps.sh"
"$here/../cluster/build.sh"
"$here/build.sh"
"$here/../helm/build.sh"

mkdir -p "$NODE_STATE"/{logs,run,cni/net.d,cni/ipam,containerd,kubelet}
pidfile() { echo "$NODE_STATE/run/$1.pid"; }
running() { local p; p=$(cat "$(pidfile "$1")" 2>/dev/null) && kill -0 "$p" 2>/dev/null; }
# Starts a daemon in its own session, its output in logs/, its pid in run/.
daemon() {
  local name=$1; shift
  running "$name" && return 0
  setsid "$@" >"$NODE_STATE/logs/$name.log" 2>&1 < /dev/null &
  echo $! > "$(pidfile "$name")"
}
# Writes stdin to a file only when it differs: kube-proxy exits when its config file changes.
put() {
  local tmp; tmp=$(mktemp)
  cat > "$tmp"
  if cmp -s "$tmp" "$1"; then rm -f "$tmp"; else mv "$tmp" "$1"; fi
}
# Polls a command until it succeeds, at most $1 seconds; then shows the log $2.
wait_for() {
  local secs=$1 name=$2; shift 2
  local deadline=$(( $(date +%s) + secs ))
  until "$@" >/dev/null 2>&1; do
    if [ "$(date +%s)" -ge "$deadline" ] || ! running "$name"; then
      log "$name did not come up within ${secs}s; the end of $NODE_STATE/logs/$name.log:"
      tail -n 30 "$NODE_STATE/logs/$name.log" >&2
      return 1
    fi
    sleep 0.5
  done
}

# The bridge exists before anything else, so its address can be the node's and the
# API server's advertised one. The CNI bridge plugin adopts it.
if ! ip link show "$NODE_BRIDGE" >/dev/null 2>&1; then
  ip link add "$NODE_BRIDGE" type bridge
  ip addr add "$NODE_IP/24" dev "$NODE_BRIDGE"
fi
ip link set "$NODE_BRIDGE" up

# The control plane: the Services' range set, the API server's certificate valid for the
# in-cluster name and address, and no kwok controller (it would take the real node over).
if "$CLUSTER_BIN/kwokctl" get clusters 2>/dev/null | grep -qx "$CLUSTER_NAME"; then
  # Never recreate a cluster under a running node: wait for it, or say how to start over.
  for _ in $(seq 1 60); do kubectl get --raw /readyz >/dev/null 2>&1 && break; sleep 1; done
  kubectl get --raw /readyz >/dev/null || { log "$CLUSTER_NAME exists but its API server is not ready; run \`make node-down\` and try again"; exit 1; }
  log "$CLUSTER_NAME is already running"
else
  # A kubelet, kube-proxy or forward left from an earlier cluster would use its old address.
  for name in kubelet kube-proxy apiserver-forward; do
    p=$(cat "$NODE_STATE/run/$name.pid" 2>/dev/null) && kill "$p" 2>/dev/null && while kill -0 "$p" 2>/dev/null; do sleep 0.2; done
    rm -f "$NODE_STATE/run/$name.pid"
  done
  mkdir -p "$KWOK_WORKDIR"
  put "$NODE_STATE/kwok.yaml" <<YAML
kind: KwokctlConfiguration
apiVersion: config.kwok.x-k8s.io/v1alpha1
options:
  runtime: binary
  bindAddress: 127.0.0.1
  kubeApiserverCertSANs: ["$SERVICE_APISERVER_IP", "$NODE_IP"]
  etcdBinary: $CLUSTER_BIN/etcd
  kubeApiserverBinary: $CLUSTER_BIN/kube-apiserver
  kubeControllerManagerBinary: $CLUSTER_BIN/kube-controller-manager
  kubeSchedulerBinary: $CLUSTER_BIN/kube-scheduler
  kwokControllerBinary: $CLUSTER_BIN/kwok
  kubectlBinary: $CLUSTER_BIN/kubectl
YAML
  start=$(date +%s)
  log "creating $CLUSTER_NAME"
  "$CLUSTER_BIN/kwokctl" create cluster --name "$CLUSTER_NAME" -c "$NODE_STATE/kwok.yaml" \
    --extra-args "kube-apiserver=service-cluster-ip-range=$SERVICE_CIDR" \
    --extra-args "kube-apiserver=advertise-address=$NODE_IP" --disable kwok-controller \
    --kubeconfig "$KUBECONFIG" --wait 3m >&2
  log "control plane up in $(( $(date +%s) - start ))s"
fi
api_port=$(kubectl config view --minify -o jsonpath='{.clusters[0].cluster.server}'); api_port=${api_port##*:}
pki=$KWOK_WORKDIR/clusters/$CLUSTER_NAME/pki

# Pods reach the API server through the kubernetes Service (advertised at the node's
# address); the API server itself stays on loopback, and socat bridges the two.
daemon apiserver-forward socat "TCP-LISTEN:$api_port,bind=$NODE_IP,fork,reuseaddr" "TCP:127.0.0.1:$api_port"

# containerd: the default spec without rlimits and oom_score_adj kept >= its own (both
# need CAP_SYS_RESOURCE), cgroupfs (cgroup v1 hybrid), the local pause image, Debian's CNI.
"$NODE_BIN/ctr" oci spec 2>/dev/null | node -e '
  let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
    const spec = JSON.parse(s); delete spec.process.rlimits; process.stdout.write(JSON.stringify(spec, null, 2));
  });' | put "$NODE_STATE/containerd/base-spec.json"
put "$NODE_STATE/containerd/config.toml" <<TOML
version = 3
root = "$NODE_STATE/containerd/root"
state = "$NODE_STATE/containerd/state"
[grpc]
  address = "$CONTAINERD_SOCK"
[ttrpc]
  address = "$CONTAINERD_SOCK.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.cri.v1.images"]
  snapshotter = "overlayfs"
  [plugins."io.containerd.cri.v1.images".pinned_images]
    sandbox = "localhost/msop-pause:1"
[plugins."io.containerd.cri.v1.runtime"]
  enable_selinux = false
  # Lowering a process's oom_score_adj (the kubelet asks -998 for sandboxes) needs CAP_SYS_RESOURCE.
  restrict_oom_score_adj = true
  [plugins."io.containerd.cri.v1.runtime".containerd]
    default_runtime_name = "runc"
    [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      base_runtime_spec = "$NODE_STATE/containerd/base-spec.json"
      [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc.options]
        BinaryName = "/usr/sbin/runc"
        SystemdCgroup = false
  [plugins."io.containerd.cri.v1.runtime".cni]
    bin_dirs = ["/usr/lib/cni"]
    conf_dir = "$NODE_STATE/cni/net.d"
[plugins."io.containerd.grpc.v1.cri"]
  disable_tcp_service = true
  stream_server_address = "127.0.0.1"
TOML
# The pod network: one bridge, host-local addresses, no masquerade (pods talk to this
# machine only), hairpin so a pod reaches itself through its Service.
put "$NODE_STATE/cni/net.d/10-msop.conflist" <<JSON
{
  "cniVersion": "1.0.0",
  "name": "msop-pods",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$NODE_BRIDGE",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "$NODE_STATE/cni/ipam",
        "ranges": [[{ "subnet": "$POD_CIDR", "gateway": "$NODE_IP" }]],
        "routes": [{ "dst": "0.0.0.0/0" }]
      }
    }
  ]
}
JSON
daemon containerd "$NODE_BIN/containerd" --config "$NODE_STATE/containerd/config.toml"
wait_for 30 containerd "$NODE_BIN/ctr" --address "$CONTAINERD_SOCK" version

"$here/images.sh"

# The kubelet: cgroup v1 allowed (KEP-5573), cgroupfs, serving on the node's address only.
put "$NODE_STATE/kubelet/config.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
failCgroupV1: false
cgroupDriver: cgroupfs
address: $NODE_IP
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: false}
  x509: {clientCAFile: $pki/ca.crt}
authorization: {mode: AlwaysAllow}
containerRuntimeEndpoint: unix://$CONTAINERD_SOCK
podCIDR: $POD_CIDR
clusterDomain: cluster.local
resolvConf: /etc/resolv.conf
failSwapOn: false
serializeImagePulls: false
maxPods: 60
evictionHard: {memory.available: 200Mi, nodefs.available: 2%, imagefs.available: 2%}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
nodeStatusUpdateFrequency: 4s
podLogsDir: $NODE_STATE/kubelet/pod-logs
YAML
# The kubelet sets these kernel tunables at start (as on any node); down.sh puts them back.
saved=$NODE_STATE/run/sysctl.saved
[ -f "$saved" ] || for key in vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops; do
  echo "$key=$(sysctl -n "$key")"
done > "$saved"
daemon kubelet "$CLUSTER_BIN/kubelet" --config "$NODE_STATE/kubelet/config.yaml" --kubeconfig "$KUBECONFIG" \
  --root-dir "$NODE_STATE/kubelet/root" --cert-dir "$NODE_STATE/kubelet/pki" \
  --hostname-override "$NODE_NAME" --node-ip "$NODE_IP" \
  --node-labels "topology.kubernetes.io/zone=zone-a,msop.dev/node-tier=true" --v=1

# kube-proxy in iptables mode. It leaves the machine's sysctls alone (conntrack limits
# and timeouts at 0, no localhost NodePorts, which would set route_localnet).
put "$NODE_STATE/kube-proxy.yaml" <<YAML
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
clientConnection: {kubeconfig: $KUBECONFIG}
hostnameOverride: $NODE_NAME
bindAddress: $NODE_IP
clusterCIDR: $POD_CIDR
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
nodePortAddresses: ["$NODE_IP/32"]
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
iptables: {localhostNodePorts: false, minSyncPeriod: 0s, syncPeriod: 30s}
YAML
daemon kube-proxy "$CLUSTER_BIN/kube-proxy" --config "$NODE_STATE/kube-proxy.yaml" --v=1

wait_for 90 kubelet kubectl wait --for=condition=Ready "node/$NODE_NAME" --timeout=2s
wait_for 30 kube-proxy curl -sf http://127.0.0.1:10256/healthz
# Pods need the default ServiceAccount, which kube-controller-manager creates shortly after start.
wait_for 60 kubelet kubectl get serviceaccount default -n default
log "ready: node $NODE_NAME ($NODE_IP), pods $POD_CIDR, Services $SERVICE_CIDR, operator image $(cat "$NODE_IMAGES/msop.ref")"
log "export KUBECONFIG=$KUBECONFIG"

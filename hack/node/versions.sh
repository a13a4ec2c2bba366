# Versions of the node tier, beside the control plane's (hack/cluster/versions.sh).
# kubelet and kube-proxy are built at K8S_VERSION into CLUSTER_BIN; the runtime,
# the pause program and the images go to a directory named by their versions.
. "$(dirname "${BASH_SOURCE[0]}")/../cluster/versions.sh"
CONTAINERD_VERSION=2.4.2
# Prometheus 3 (its Go module is tagged v0.3xx); Debian's 2.42 has no Kubernetes discovery.
PROMETHEUS_MODULE_VERSION=0.316.0
NODE_BIN=$CLUSTER_CACHE_ROOT/node-containerd$CONTAINERD_VERSION/bin
# npm inside the image's base (the Dockerfile's build stages run it); the pinned node
# binary itself comes from the project's `node` devDependency.
NPM_VERSION=11.19.1
NODE_IMAGES=$CLUSTER_CACHE_ROOT/node-images

# Sourced by the node scripts: the node tier's names, addresses and paths.
# The pods live on the bridge msop-br0 in 10.244.0.0/24; its gateway 10.244.0.1 is the
# node's address (kubelet, and the pods' way to the API server). Services get 10.96.0.0/16.
here_node=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export CLUSTER_NAME=${CLUSTER_NAME:-msop-node}
. "$here_node/../cluster/env.sh"
. "$here_node/versions.sh"
NODE_NAME=msop-node-1
NODE_BRIDGE=msop-br0
NODE_IP=10.244.0.1
POD_CIDR=10.244.0.0/24
SERVICE_CIDR=10.96.0.0/16
SERVICE_APISERVER_IP=10.96.0.1
NODE_STATE=$CLUSTER_CACHE_ROOT/node-state/$CLUSTER_NAME
. "$here_node/podman-env.sh"
export PATH=$NODE_BIN:$PATH

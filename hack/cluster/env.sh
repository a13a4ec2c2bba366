# Sourced by the cluster scripts and the Makefile: where the binaries, the
# cluster state and the kubeconfig live. Override CLUSTER_NAME to run several.
. "$(dirname "${BASH_SOURCE[0]}")/versions.sh"
CLUSTER_NAME=${CLUSTER_NAME:-msop}
export KWOK_WORKDIR=${KWOK_WORKDIR:-$CLUSTER_CACHE_ROOT/kwok}
export KUBECONFIG=${MSOP_KUBECONFIG:-$KWOK_WORKDIR/clusters/$CLUSTER_NAME/kubeconfig.yaml}
export PATH=$CLUSTER_BIN:$PATH

# Versions of the local control plane. Changing one changes the cache directory,
# so the next build starts clean.
K8S_VERSION=1.36.3
ETCD_VERSION=3.6.16
KWOK_VERSION=0.8.0
GATEWAY_API_VERSION=1.5.1
ISTIO_API_VERSION=1.31.4
# Helm lives in the same cache directory; hack/helm/build.sh rebuilds it when `helm version` differs.
HELM_VERSION=3.22.0
CLUSTER_CACHE_ROOT=${MSOP_CACHE_DIR:-$HOME/.cache/msop}
CLUSTER_BIN=$CLUSTER_CACHE_ROOT/cluster-k8s$K8S_VERSION-etcd$ETCD_VERSION-kwok$KWOK_VERSION/bin

#!/usr/bin/env bash
# Writes the router CRDs the tests install into the versioned cache, taken from
# the projects' own Go modules: the Gateway API standard channel
# (sigs.k8s.io/gateway-api) and Istio's VirtualService (istio.io/api). Prints
# the directory.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/versions.sh"
out=$CLUSTER_CACHE_ROOT/router-crds-gw$GATEWAY_API_VERSION-istio$ISTIO_API_VERSION
if [ ! -f "$out/.complete" ]; then
  mkdir -p "$out"
  moddir() { (cd "$here/k8s" && go mod download -json "$1") | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).Dir))'; }
  gw=$(moddir "sigs.k8s.io/gateway-api@v$GATEWAY_API_VERSION")
  cp "$gw"/config/crd/standard/gateway.networking.k8s.io_{gatewayclasses,gateways,httproutes,referencegrants}.yaml "$out/"
  istio=$(moddir "istio.io/api@v$ISTIO_API_VERSION")
  node "$here/extract-crd.mjs" "$istio/kubernetes/customresourcedefinitions.gen.yaml" virtualservices.networking.istio.io > "$out/istio-virtualservices.yaml"
  touch "$out/.complete"
fi
echo "$out"

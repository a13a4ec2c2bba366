#!/usr/bin/env bash
# The walking skeleton, live: a local cluster, the CRD, the operator and
# examples/hello.yaml, then what msop made of it.
set -euo pipefail
cd "$(dirname "$0")/.."
. hack/cluster/env.sh
hack/cluster/up.sh
kubectl apply --server-side -f crds/microservice.yaml >/dev/null
kubectl wait --for=condition=Established crd/microservices.msop.dev --timeout=60s >/dev/null
log=$KWOK_WORKDIR/msop-demo.log
# Free ports for health and metrics, so the demo never clashes with an operator already running here.
node_modules/.bin/node dist/main.js --health-port=0 --metrics-port=0 >"$log" 2>&1 &
operator=$!
trap 'kill $operator 2>/dev/null || true' EXIT
kubectl apply -n default -f examples/hello.yaml
kubectl wait -n default --for=condition=Ready msvc/hello --timeout=60s
kubectl get -n default msvc,deploy,rs,svc,pdb
cat <<TXT

msop made the Deployment, ReplicaSet, Services and PodDisruptionBudget above from examples/hello.yaml.
The demo operator stops now (its log: $log). To keep going:
  export KUBECONFIG=$KUBECONFIG
  make run                                   # the operator, in the foreground
  kubectl scale msvc/hello --replicas=5      # in another terminal
  make cluster-down                          # when you are done
TXT

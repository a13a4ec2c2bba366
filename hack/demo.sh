#!/usr/bin/env bash
# msop, live: a local cluster, the CRD, the operator and examples/hello.yaml,
# what msop made of it, then a canary release of a new image, step by step.
set -euo pipefail
cd "$(dirname "$0")/.."
. hack/cluster/env.sh
hack/cluster/up.sh
kubectl apply --server-side -f crds/microservice.yaml -f crds/environment.yaml >/dev/null
# Not `kubectl wait`: right after the apply the CRD has no conditions yet, and kubectl wait fails on that.
for _ in $(seq 1 300); do
  [ "$(kubectl get crd microservices.msop.dev -o jsonpath='{.status.conditions[?(@.type=="Established")].status}')" = True ] && break
  sleep 0.2
done
log=$KWOK_WORKDIR/msop-demo.log
# Free ports for health and metrics, so the demo never clashes with an operator already running here.
node_modules/.bin/node dist/main.js --health-port=0 --metrics-port=0 >"$log" 2>&1 &
operator=$!
trap 'kill $operator 2>/dev/null || true' EXIT
kubectl apply -n default -f examples/hello.yaml
kubectl wait -n default --for=condition=Ready msvc/hello --timeout=60s
kubectl get -n default msvc,deploy,rs,svc,pdb

echo
echo "A canary release, live: hello moves to a new image with Canary steps (34%, pause, 67%, pause)."
before=$(kubectl get -n default msvc hello -o jsonpath='{.status.stableRevision}')
kubectl patch -n default msvc hello --type=merge -p '{"spec":{"image":"ghcr.io/example/hello:1.1.0","release":{"strategy":"Canary","canary":{"steps":[{"setWeight":34},{"pause":{"duration":"3s"}},{"setWeight":67},{"pause":{"duration":"3s"}}]}}}}' >/dev/null
kubectl get -n default msvc hello
for _ in $(seq 1 60); do
  sleep 1
  kubectl get -n default msvc hello --no-headers
  now=$(kubectl get -n default msvc hello -o jsonpath='{.status.phase}/{.status.stableRevision}')
  [ "$now" != "Ready/$before" ] && [ "${now%%/*}" = Ready ] && break
done
echo
kubectl describe -n default msvc hello | sed -n '/^Events:/,$p'
cat <<TXT

msop made the Deployment, ReplicaSet, Services and PodDisruptionBudget above from examples/hello.yaml,
then released hello:1.1.0 as a canary (replicas router: the weight is the share of ready pods; the WEIGHT
column is empty again once the release is over).
The demo operator stops now (its log: $log). To keep going:
  export KUBECONFIG=$KUBECONFIG
  make run                                   # the operator, in the foreground
  kubectl scale msvc/hello --replicas=5      # in another terminal
  make cluster-down                          # when you are done
TXT

# msop developer commands. `make test` is what CI runs (.ci/run).
SHELL := /bin/bash
.DEFAULT_GOAL := help
CLUSTER := hack/cluster
NODE := node_modules/.bin/node
# The test cluster is separate from the demo cluster, so `make test` never disturbs a running demo.
TEST_CLUSTER := msop-test

.PHONY: help
help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  %-15s %s\n", $$1, $$2}'

# `npm install` with the committed lock installs the locked versions. Not `npm ci`: it refuses a lock
# that lacks other platforms' optional binaries (@swc/core-darwin-*), which some registries do not serve.
node_modules/.installed: package.json package-lock.json
	npm install --no-audit --no-fund
	@touch $@

.PHONY: deps
deps: node_modules/.installed ## Install npm dependencies from package-lock.json

.PHONY: build
build: deps ## Compile TypeScript to dist/
	npm run -s build

.PHONY: lint
lint: deps ## eslint and prettier
	npm run -s lint

.PHONY: typecheck
typecheck: deps ## tsc --noEmit over src, test and bench
	npm run -s typecheck

.PHONY: gen
gen: deps ## Regenerate src/api types from crds/microservice.yaml
	npm run -s gen

.PHONY: gen-check
gen-check: deps ## Fail when the generated types drifted from the CRD
	npm run -s gen:check

.PHONY: test-unit
test-unit: deps ## Unit tests (pure code, no cluster)
	npm run -s test:unit

.PHONY: cluster-build
cluster-build: ## Build the control-plane binaries from Go modules (cached)
	$(CLUSTER)/build.sh

.PHONY: cluster-up
cluster-up: ## Start the local control plane (etcd, apiserver, KCM, scheduler, kwok)
	$(CLUSTER)/up.sh

.PHONY: cluster-down
cluster-down: ## Stop the local control plane
	$(CLUSTER)/down.sh

.PHONY: helm-build
helm-build: ## Build helm from its Go module into the cluster binaries' cache (once)
	hack/helm/build.sh

.PHONY: kstatus-build
kstatus-build: ## Build the kstatus helper (sigs.k8s.io/cli-utils) into the same cache (once)
	hack/kstatus/build.sh

.PHONY: helm-crd
helm-crd: ## Copy crds/*.yaml into the chart (npm run lint fails while they differ)
	node hack/helm/check-crd.mjs --fix

.PHONY: test-cluster
test-cluster: build ## Cluster tests against a fresh local control plane (some run dist/main.js as a child)
	hack/test-cluster.sh

.PHONY: test-bench
test-bench: build ## The peers benchmark's harness at N = 10 (floor, msop, Argo Rollouts as installed and unthrottled, built from its Go module; cached)
	hack/bench/build-argo-rollouts.sh >/dev/null
	CLUSTER_NAME=$${CLUSTER_NAME:-msop-bench-check} npm run -s bench -- --peers --n=10 --tools=floor,floor-qps,msop,argo,argo-qps --steady-seconds=5 \
	  --settle-seconds=1 --out=$$(mktemp -d) --check

.PHONY: test-e2e
test-e2e: build ## End-to-end tests: fresh control plane, real Prometheus (Debian package), simulated apps, traffic
	hack/test-e2e.sh

.PHONY: test-chaos
test-chaos: deps ## Chaos suite, short form (the full run with figures: npm run test:chaos)
	MSOP_CHAOS_SHORT=1 hack/test-chaos.sh

.PHONY: node-up
node-up: deps ## Start the node tier: control plane plus one real node (containerd, kubelet, kube-proxy); needs root
	hack/node/up.sh

.PHONY: node-down
node-down: ## Stop the node tier and undo its network changes
	hack/node/down.sh

.PHONY: test-node
test-node: build ## Node tier: a fresh cluster with a real node, the operator's image installed by its chart, live traffic
	hack/test-node.sh

.PHONY: test
test: lint typecheck gen-check test-unit test-cluster test-bench test-e2e test-chaos test-node ## Everything CI runs

.PHONY: install-crd
install-crd: ## Apply the CRDs (Microservice, Environment) to the current kubeconfig context
	kubectl apply --server-side -f crds/microservice.yaml -f crds/environment.yaml
	for crd in microservices.msop.dev environments.msop.dev; do for _ in $$(seq 1 300); do [ "$$(kubectl get crd $$crd -o jsonpath='{.status.conditions[?(@.type=="Established")].status}')" = True ] && break; sleep 0.2; done; done

.PHONY: run
run: build ## Run the operator against the current kubeconfig context
	$(NODE) dist/main.js --log-format=pretty

.PHONY: demo
demo: build ## Local cluster + CRD + operator + examples/hello.yaml
	hack/demo.sh

// Checks that a test cluster is reachable and installs the CRD once for all
// cluster tests. Without a cluster the run fails with the way to get one.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

export default async function globalSetup(): Promise<void> {
  const kubeconfig = process.env.MSOP_TEST_KUBECONFIG;
  const bin = process.env.MSOP_TEST_BIN;
  if (!kubeconfig || !existsSync(kubeconfig) || !bin) {
    throw new Error(
      'The cluster tests need the local control plane: run `make test-cluster` (or `make test`), ' +
        'which builds it from Go modules and starts it. To reuse a running one, set MSOP_TEST_KUBECONFIG and MSOP_TEST_BIN ' +
        '(see docs/testing.md).',
    );
  }
  const kubectl = (...args: string[]) =>
    execFileSync(path.join(bin, 'kubectl'), args, {
      env: { ...process.env, KUBECONFIG: kubeconfig },
      encoding: 'utf8',
    });
  try {
    kubectl('get', '--raw', '/readyz');
  } catch (err) {
    throw new Error(
      `The test cluster at ${kubeconfig} is not ready; run \`make cluster-up\`: ${(err as Error).message}`,
      { cause: err },
    );
  }
  for (const file of ['microservice.yaml', 'environment.yaml']) {
    kubectl('apply', '--server-side', '--force-conflicts', '-f', path.join(__dirname, '..', '..', 'crds', file));
  }
  await established(kubectl, 'microservices.msop.dev');
  await established(kubectl, 'environments.msop.dev');
  // The router CRDs come from the Gateway API and Istio Go modules (hack/cluster/router-crds.sh).
  const routerCrds = process.env.MSOP_TEST_ROUTER_CRDS;
  if (!routerCrds || !existsSync(routerCrds)) {
    throw new Error(
      'MSOP_TEST_ROUTER_CRDS is not set: run the cluster tests with `make test-cluster`, or export MSOP_TEST_ROUTER_CRDS=$(hack/cluster/router-crds.sh)',
    );
  }
  kubectl('apply', '--server-side', '--force-conflicts', '-f', routerCrds);
  await established(kubectl, 'httproutes.gateway.networking.k8s.io');
  await established(kubectl, 'virtualservices.networking.istio.io');
  // Discovery lags Established by a moment; kubectl explain and scale need it.
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      kubectl('get', 'microservices,environments,httproutes,virtualservices', '-A');
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

/**
 * Polls until a CRD is Established. Not `kubectl wait`: right after an apply the CRD has no conditions
 * yet, and kubectl wait then fails with an accessor error instead of waiting.
 */
async function established(kubectl: (...args: string[]) => string, crd: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    // Before the API server writes the first condition, kubectl's filter fails on the missing list: retry.
    let status = '';
    try {
      status = kubectl('get', 'crd', crd, '-o', 'jsonpath={.status.conditions[?(@.type=="Established")].status}');
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
    if (status.trim() === 'True') return;
    if (Date.now() > deadline) throw new Error(`CRD ${crd} was not Established within 60 s`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

// The node tier needs the cluster with its real node (hack/node/up.sh) and the images
// loaded into the node's containerd; it installs the operator with its chart, as a
// platform team would, once for every test file. Without the node the run fails with
// the way to get one.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');

export default async function globalSetup(): Promise<void> {
  const need = [
    'MSOP_TEST_KUBECONFIG',
    'MSOP_TEST_BIN',
    'MSOP_NODE_BIN',
    'MSOP_NODE_CONTAINERD_SOCK',
    'MSOP_NODE_NAME',
    'MSOP_NODE_IP',
    'MSOP_NODE_POD_LOGS',
    'MSOP_NODE_OPERATOR_IMAGE',
  ];
  const unset = need.filter((name) => !process.env[name]);
  if (unset.length > 0 || !existsSync(process.env.MSOP_TEST_KUBECONFIG!)) {
    throw new Error(
      `The node tests need the cluster with its real node (${unset.join(', ') || 'no kubeconfig'} missing): ` +
        'run `make test-node`, or `make node-up` and then the exports it prints (see docs/testing.md).',
    );
  }
  const env = { ...process.env, KUBECONFIG: process.env.MSOP_TEST_KUBECONFIG };
  const tool = (name: string, ...args: string[]) =>
    execFileSync(path.join(process.env.MSOP_TEST_BIN!, name), args, { env, encoding: 'utf8', cwd: ROOT });
  const ready = tool(
    'kubectl',
    'get',
    'node',
    process.env.MSOP_NODE_NAME!,
    '-o',
    'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
  );
  if (ready.trim() !== 'True') throw new Error(`node ${process.env.MSOP_NODE_NAME} is not Ready; run \`make node-up\``);
  // The chart installs the CRD and the operator; --wait returns once both pods are Ready.
  const [repository, tag] = process.env.MSOP_NODE_OPERATOR_IMAGE!.split(':');
  tool(
    'helm',
    'upgrade',
    '--install',
    'msop',
    'helm/msop',
    '-n',
    'msop-system',
    '--create-namespace',
    '--set',
    `image.repository=${repository}`,
    '--set',
    `image.tag=${tag}`,
    '--set',
    'image.pullPolicy=Never',
    '--wait',
    '--timeout',
    '180s',
  );
}

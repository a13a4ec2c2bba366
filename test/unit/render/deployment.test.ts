import type { V1Deployment } from '@kubernetes/client-node';
import type { MicroserviceSpec } from '../../../src/api/types';
import { find, render } from './fixtures';

function deploymentOf(spec: Partial<MicroserviceSpec> = {}): V1Deployment {
  return find<V1Deployment>(render(spec), 'Deployment');
}

describe('Deployment', () => {
  test('selects the stable track only, never the revision', () => {
    expect(deploymentOf().spec!.selector).toEqual({
      matchLabels: { 'msop.dev/microservice': 'orders', 'msop.dev/track': 'stable' },
    });
  });

  test.each<[string, Partial<MicroserviceSpec>, number | undefined]>([
    ['defaults replicas to 1', {}, 1],
    ['takes spec.replicas', { replicas: 4 }, 4],
    ['leaves replicas to the HPA under autoscaling', { replicas: 4, autoscaling: { maxReplicas: 10 } }, undefined],
  ])('%s', (_name, spec, replicas) => {
    const deployment = deploymentOf(spec);
    if (replicas === undefined) expect(deployment.spec).not.toHaveProperty('replicas');
    else expect(deployment.spec!.replicas).toBe(replicas);
  });

  test('rolls with no unavailable pods and keeps three old ReplicaSets', () => {
    const { spec } = deploymentOf();
    expect(spec!.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: '25%' } });
    expect(spec!.revisionHistoryLimit).toBe(3);
  });

  test.each<[string, Partial<MicroserviceSpec>, number]>([
    ['defaults progressDeadlineSeconds to 600', {}, 600],
    ['takes progressDeadlineSeconds from release', { release: { progressDeadlineSeconds: 120 } }, 120],
  ])('%s', (_name, spec, seconds) => {
    expect(deploymentOf(spec).spec!.progressDeadlineSeconds).toBe(seconds);
  });

  test('carries the revision label on itself and its pods', () => {
    const children = render();
    const deployment = find<V1Deployment>(children, 'Deployment');
    expect(deployment.metadata!.labels!['msop.dev/revision']).toBe(children.revision);
    expect(deployment.spec!.template.metadata!.labels!['msop.dev/revision']).toBe(children.revision);
  });

  test('renders the same template it returns', () => {
    const children = render();
    expect(find<V1Deployment>(children, 'Deployment').spec!.template).toEqual(children.template);
  });
});

import type { V1PodDisruptionBudget } from '@kubernetes/client-node';
import type { MicroserviceSpec } from '../../../src/api/types';
import { render } from './fixtures';

function pdbOf(spec: Partial<MicroserviceSpec>): V1PodDisruptionBudget | undefined {
  return render(spec).objects.find((object) => object.kind === 'PodDisruptionBudget') as V1PodDisruptionBudget;
}

describe('PodDisruptionBudget', () => {
  test.each<
    [string, Partial<MicroserviceSpec>, { maxUnavailable?: number | string; minAvailable?: number | string } | null]
  >([
    ['absent for the default single replica', {}, null],
    ['absent for one replica', { replicas: 1 }, null],
    ['maxUnavailable 1 for several replicas', { replicas: 2 }, { maxUnavailable: 1 }],
    ['maxUnavailable 1 when autoscaling can exceed one', { autoscaling: { maxReplicas: 3 } }, { maxUnavailable: 1 }],
    ['absent when autoscaling is capped at one', { replicas: 3, autoscaling: { maxReplicas: 1 } }, null],
    ['as configured, even for one replica', { disruptionBudget: { maxUnavailable: '50%' } }, { maxUnavailable: '50%' }],
    ['with minAvailable as configured', { replicas: 3, disruptionBudget: { minAvailable: 2 } }, { minAvailable: 2 }],
    ['maxUnavailable 1 when configured empty', { disruptionBudget: {} }, { maxUnavailable: 1 }],
  ])('is %s', (_name, spec, limits) => {
    const pdb = pdbOf(spec);
    if (limits === null) {
      expect(pdb).toBeUndefined();
      return;
    }
    expect(pdb!.apiVersion).toBe('policy/v1');
    expect(pdb!.metadata!.name).toBe('orders');
    expect(pdb!.spec).toEqual({
      ...limits,
      selector: { matchLabels: { 'msop.dev/microservice': 'orders' } },
      unhealthyPodEvictionPolicy: 'AlwaysAllow',
    });
  });
});

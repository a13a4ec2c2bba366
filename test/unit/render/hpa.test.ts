import type { V2HorizontalPodAutoscaler } from '@kubernetes/client-node';
import type { Autoscaling } from '../../../src/api/types';
import { render } from './fixtures';

function hpaOf(autoscaling?: Autoscaling): V2HorizontalPodAutoscaler | undefined {
  return render({ autoscaling }).objects.find(
    (object) => object.kind === 'HorizontalPodAutoscaler',
  ) as V2HorizontalPodAutoscaler;
}

const utilization = (name: string, averageUtilization: number) => ({
  type: 'Resource',
  resource: { name, target: { type: 'Utilization', averageUtilization } },
});

describe('HorizontalPodAutoscaler', () => {
  test('is absent without autoscaling', () => {
    expect(hpaOf(undefined)).toBeUndefined();
  });

  test('scales the stable Deployment between min and max', () => {
    const hpa = hpaOf({ minReplicas: 2, maxReplicas: 10 })!;
    expect(hpa.apiVersion).toBe('autoscaling/v2');
    expect(hpa.metadata!.name).toBe('orders');
    expect(hpa.spec!.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'orders' });
    expect(hpa.spec!.minReplicas).toBe(2);
    expect(hpa.spec!.maxReplicas).toBe(10);
  });

  test('defaults minReplicas to 1', () => {
    expect(hpaOf({ maxReplicas: 10 })!.spec!.minReplicas).toBe(1);
  });

  test.each([
    ['CPU at 80% when no target is set', { maxReplicas: 5 }, [utilization('cpu', 80)]],
    ['the CPU target', { maxReplicas: 5, targetCPUUtilizationPercentage: 60 }, [utilization('cpu', 60)]],
    [
      'only memory when only memory is set',
      { maxReplicas: 5, targetMemoryUtilizationPercentage: 70 },
      [utilization('memory', 70)],
    ],
    [
      'CPU and memory when both are set',
      { maxReplicas: 5, targetCPUUtilizationPercentage: 60, targetMemoryUtilizationPercentage: 70 },
      [utilization('cpu', 60), utilization('memory', 70)],
    ],
  ])('targets %s', (_name, autoscaling, metrics) => {
    expect(hpaOf(autoscaling)!.spec!.metrics).toEqual(metrics);
  });
});

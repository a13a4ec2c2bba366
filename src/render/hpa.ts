import type { V2HorizontalPodAutoscaler, V2MetricSpec } from '@kubernetes/client-node';
import type { Autoscaling, Microservice } from '../api/types';
import { DEFAULT_CPU_UTILIZATION, DEFAULT_MIN_REPLICAS } from './defaults';
import { childMetadata, identityOf } from './ownership';

/**
 * The HorizontalPodAutoscaler `<name>` when autoscaling is set. It scales the stable Deployment only;
 * canary sizes derive from it, so canary load never inflates the stable.
 */
export function renderHorizontalPodAutoscaler(microservice: Microservice): V2HorizontalPodAutoscaler | undefined {
  const autoscaling = microservice.spec.autoscaling;
  if (!autoscaling) return undefined;
  const { name } = identityOf(microservice);
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: childMetadata(microservice, name),
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
      minReplicas: autoscaling.minReplicas ?? DEFAULT_MIN_REPLICAS,
      maxReplicas: autoscaling.maxReplicas,
      metrics: metricsOf(autoscaling),
    },
  };
}

function metricsOf(autoscaling: Autoscaling): V2MetricSpec[] {
  const { targetCPUUtilizationPercentage: cpu, targetMemoryUtilizationPercentage: memory } = autoscaling;
  const targets: [string, number | undefined][] = [
    ['cpu', cpu ?? (memory === undefined ? DEFAULT_CPU_UTILIZATION : undefined)],
    ['memory', memory],
  ];
  return targets
    .filter((target): target is [string, number] => target[1] !== undefined)
    .map(([resource, averageUtilization]) => ({
      type: 'Resource',
      resource: { name: resource, target: { type: 'Utilization', averageUtilization } },
    }));
}

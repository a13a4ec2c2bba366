import type { V1PodDisruptionBudget } from '@kubernetes/client-node';
import type { Microservice } from '../api/types';
import { compact } from './compact';
import { desiredReplicas } from './defaults';
import { microserviceSelector } from './labels';
import { childMetadata, identityOf } from './ownership';

/**
 * The PodDisruptionBudget `<name>` over every track, when configured, or by default (maxUnavailable 1)
 * once there is more than one replica. Undefined means none: the caller prunes an existing one.
 */
export function renderPodDisruptionBudget(microservice: Microservice): V1PodDisruptionBudget | undefined {
  const { name } = identityOf(microservice);
  const { spec } = microservice;
  const budget = spec.disruptionBudget;
  if (!budget && desiredReplicas(spec) <= 1) return undefined;
  const limits =
    budget?.maxUnavailable !== undefined || budget?.minAvailable !== undefined
      ? compact({ maxUnavailable: budget.maxUnavailable, minAvailable: budget.minAvailable })
      : { maxUnavailable: 1 };
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: childMetadata(microservice, name),
    spec: {
      ...limits,
      selector: { matchLabels: microserviceSelector(name) },
      // A crash-looping pod must not block a node drain.
      unhealthyPodEvictionPolicy: 'AlwaysAllow',
    },
  };
}

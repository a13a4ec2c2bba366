import type { V1Deployment, V1PodTemplateSpec } from '@kubernetes/client-node';
import { LABEL_REVISION, TRACK_STABLE } from '../api/constants';
import type { Microservice } from '../api/types';
import { compact } from './compact';
import { DEFAULT_PROGRESS_DEADLINE_SECONDS, DEFAULT_REPLICAS, REVISION_HISTORY_LIMIT } from './defaults';
import { trackSelector } from './labels';
import { childMetadata, identityOf } from './ownership';

/** The stable Deployment `<name>`, running `template` (which already carries its revision label). */
export function renderDeployment(
  microservice: Microservice,
  template: V1PodTemplateSpec,
  revision: string,
): V1Deployment {
  const { name } = identityOf(microservice);
  const { spec } = microservice;
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: childMetadata(microservice, name, { labels: { [LABEL_REVISION]: revision } }),
    spec: compact({
      // Under autoscaling the HPA owns replicas: sending them would fight it on every apply.
      replicas: spec.autoscaling ? undefined : (spec.replicas ?? DEFAULT_REPLICAS),
      // Selectors are immutable, so this one never holds the revision.
      selector: { matchLabels: trackSelector(name, TRACK_STABLE) },
      // Never below the desired ready count while rolling.
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: '25%' } },
      progressDeadlineSeconds: spec.release?.progressDeadlineSeconds ?? DEFAULT_PROGRESS_DEADLINE_SECONDS,
      revisionHistoryLimit: REVISION_HISTORY_LIMIT,
      template,
    }),
  };
}

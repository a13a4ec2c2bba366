// The comparator of a parallel run: a mode of msop's own program (`msop comparator`)
// that takes the mirrored requests, sends each to the fresh baseline and to the
// canary, compares their answers and counts. One small ReplicaSet and its Service,
// rendered from the Microservice and the operator's image alone.
import type { V1ReplicaSet, V1Service } from '@kubernetes/client-node';
import {
  COMPARATOR_METRICS_PORT,
  COMPARATOR_PORT,
  COMPARATOR_SUFFIX,
  DEFAULT_MIRRORED_METHODS,
  LABEL_REVISION,
  LABEL_TRACK,
  TRACK_BASELINE,
  TRACK_CANARY,
  TRACK_COMPARATOR,
} from '../api/constants';
import type { Microservice } from '../api/types';
import { primaryPort } from './defaults';
import { stableStringify } from './hash';
import { podLabels, trackSelector, withRevision } from './labels';
import { childMetadata, identityOf } from './ownership';
import { createHash } from 'node:crypto';

export const comparatorServiceName = (name: string): string => `${name}-${COMPARATOR_SUFFIX}`;

/** Whether the release has a parallel run: a mirror step. */
export const hasParallelRun = (microservice: Microservice): boolean =>
  (microservice.spec.release?.canary?.steps ?? []).some((step) => step.mirror !== undefined);

/** The comparator's flags: where the old and the new answers come from, and what is left out of the comparison. */
function comparatorArgs(microservice: Microservice): string[] {
  const { name, namespace } = identityOf(microservice);
  const port = primaryPort(microservice.spec);
  const servicePort = port.servicePort ?? port.containerPort;
  const url = (track: string) => `http://${name}-${track}.${namespace}.svc:${servicePort}`;
  const parallelRun = microservice.spec.release?.canary?.parallelRun;
  const compare = parallelRun?.compare ?? {};
  return [
    'comparator',
    `--primary=${url(TRACK_BASELINE)}`,
    `--candidate=${url(TRACK_CANARY)}`,
    `--port=${COMPARATOR_PORT}`,
    `--metrics-port=${COMPARATOR_METRICS_PORT}`,
    `--route=${name}`,
    // Their counters start at 0, so increase() sees the first difference.
    `--methods=${(parallelRun?.methods ?? DEFAULT_MIRRORED_METHODS).join(',')}`,
    ...(compare.ignoreHeaders ?? []).map((header) => `--ignore-header=${header}`),
    ...(compare.ignoreJSONPaths ?? []).map((path) => `--ignore-json-path=${path}`),
  ];
}

/** The comparator ReplicaSet `<name>-compare-<hash>`; the hash is of its pod template, so a new setting makes new pods. */
export function renderComparatorReplicaSet(microservice: Microservice, image: string, replicas: number): V1ReplicaSet {
  const { name } = identityOf(microservice);
  const template = {
    metadata: { labels: podLabels(name, TRACK_COMPARATOR) },
    spec: {
      automountServiceAccountToken: false,
      securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [
        {
          name: TRACK_COMPARATOR,
          image,
          args: comparatorArgs(microservice),
          ports: [
            { name: 'mirror', containerPort: COMPARATOR_PORT, protocol: 'TCP' },
            // Named http so the scrape job of docs/analysis.md collects the comparator's counts.
            { name: 'http', containerPort: COMPARATOR_METRICS_PORT, protocol: 'TCP' },
          ],
          readinessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 5 },
          resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '256Mi' } },
          securityContext: {
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ['ALL'] },
          },
        },
      ],
    },
  };
  const revision = createHash('sha256').update(stableStringify(template)).digest('hex').slice(0, 8);
  template.metadata.labels = withRevision(template.metadata.labels, revision);
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: childMetadata(microservice, `${comparatorServiceName(name)}-${revision}`, {
      labels: { [LABEL_TRACK]: TRACK_COMPARATOR, [LABEL_REVISION]: revision },
    }),
    spec: {
      replicas,
      selector: { matchLabels: withRevision(trackSelector(name, TRACK_COMPARATOR), revision) },
      template,
    },
  };
}

/** The Service `<name>-compare` the route mirrors to. */
export function renderComparatorService(microservice: Microservice): V1Service {
  const { name } = identityOf(microservice);
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: childMetadata(microservice, comparatorServiceName(name)),
    spec: {
      type: 'ClusterIP',
      selector: trackSelector(name, TRACK_COMPARATOR),
      ports: [{ name: 'mirror', port: COMPARATOR_PORT, targetPort: 'mirror', protocol: 'TCP' }],
    },
  };
}

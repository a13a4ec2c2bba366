// Microservices in the states `kubectl msop status` draws, as msop writes them.
import type { Condition, Microservice, MicroserviceSpec, MicroserviceStatus } from '../../../src/api/types';

export const NOW = new Date('2026-03-01T12:00:00Z');

/** A time `seconds` before NOW, as the API server writes it. */
export const ago = (seconds: number): string => new Date(NOW.getTime() - seconds * 1_000).toISOString();

export function condition(type: string, status: Condition['status'], reason: string, secondsAgo = 300): Condition {
  return { type, status, reason, message: '', lastTransitionTime: ago(secondsAgo) };
}

export function orders(spec: Partial<MicroserviceSpec>, status: MicroserviceStatus | undefined): Microservice {
  return {
    apiVersion: 'msop.dev/v1alpha1',
    kind: 'Microservice',
    metadata: { name: 'orders', namespace: 'shop', generation: 7 },
    spec: { image: 'registry.example.com/shop/orders:1.4.3', replicas: 4, ...spec },
    ...(status ? { status } : {}),
  };
}

const canary = (steps: MicroserviceSpec['release']) => ({ release: steps });

/** Stable only, every pod ready. */
export const ready = orders(
  { image: 'registry.example.com/shop/orders:1.4.2', replicas: 3 },
  {
    observedGeneration: 7,
    phase: 'Ready',
    stableRevision: '2adba111',
    replicas: 3,
    readyReplicas: 3,
    ready: '3/3',
    message: 'Deployment orders is available with 3/3 ready replicas on revision 2adba111',
    conditions: [condition('Ready', 'True', 'Succeeded', 3_600)],
  },
);

const explicitSteps = canary({
  strategy: 'Canary',
  canary: {
    steps: [{ setWeight: 25 }, { pause: { duration: '2m' } }, { setWeight: 50 }, { pause: {} }],
  },
});

/** Step 2 of 4 (a 2m pause, 30s in) at weight 25, one of four pods on the canary. */
export const atStep2 = orders(explicitSteps, {
  observedGeneration: 7,
  phase: 'Progressing',
  stableRevision: '2adba111',
  canaryRevision: '3fd15463',
  currentStep: 1,
  stepCount: 4,
  release: { strategy: 'Canary', revision: '3fd15463', step: 1, stepStartTime: ago(30), desiredWeight: 25 },
  desiredWeight: 25,
  canaryWeight: 25,
  canaryReplicas: 1,
  canaryReadyReplicas: 1,
  replicas: 4,
  readyReplicas: 4,
  ready: '4/4',
  message: 'Step 2/4 (pause 2m): pausing, 1m30s left',
  conditions: [
    condition('Ready', 'False', 'Progressing', 90),
    condition('Reconciling', 'True', 'Progressing', 90),
    condition('Released', 'False', 'Progressing', 90),
  ],
});

/** Step 4 of 4, `pause: {}`: waiting for kubectl msop promote at weight 50. */
export const manualGate = orders(explicitSteps, {
  observedGeneration: 7,
  phase: 'Paused',
  stableRevision: '2adba111',
  canaryRevision: '3fd15463',
  currentStep: 3,
  stepCount: 4,
  release: { strategy: 'Canary', revision: '3fd15463', step: 3, stepStartTime: ago(600), desiredWeight: 50 },
  desiredWeight: 50,
  canaryWeight: 50,
  canaryReplicas: 2,
  canaryReadyReplicas: 2,
  replicas: 4,
  readyReplicas: 4,
  ready: '4/4',
  message:
    'Step 4/4 (pause until promoted): waiting for promotion (kubectl msop promote, or the annotation msop.dev/action: promote)',
  conditions: [condition('Ready', 'False', 'Progressing', 900), condition('Released', 'False', 'Progressing', 900)],
});

/** 3fd15463 was rolled back; 2adba111 serves again. The shorthand steps. */
export const rolledBack = orders(
  canary({ strategy: 'Canary', canary: { stepWeight: 10, maxWeight: 30, stepInterval: '30s' } }),
  {
    observedGeneration: 7,
    phase: 'RolledBack',
    stableRevision: '2adba111',
    failedRevision: '3fd15463',
    canaryWeight: 0,
    replicas: 4,
    readyReplicas: 4,
    ready: '4/4',
    message: 'Rolled back revision 3fd15463: canary 3fd15463 had 0/1 ready pods after 10m (progress deadline 600s)',
    conditions: [
      condition('Ready', 'True', 'Succeeded', 7_200),
      condition('Released', 'False', 'ProgressDeadlineExceeded', 120),
    ],
  },
);

/** A blue-green release after the switch: the preview serves, the old pods stay warm. */
export const blueGreenSwitched = orders(
  { release: { strategy: 'BlueGreen', blueGreen: { scaleDownDelaySeconds: 60 } } },
  {
    observedGeneration: 7,
    phase: 'Promoting',
    stableRevision: '2adba111',
    canaryRevision: '3fd15463',
    canaryWeight: 100,
    canaryReplicas: 4,
    canaryReadyReplicas: 4,
    release: {
      strategy: 'BlueGreen',
      revision: '3fd15463',
      stepStartTime: ago(120),
      previewReadyTime: ago(90),
      switchTime: ago(20),
    },
    replicas: 8,
    readyReplicas: 8,
    ready: '8/8',
    message: 'Revision 3fd15463 serves all traffic; the pods of 2adba111 stay 40s more for a fast switch back',
    conditions: [condition('Ready', 'False', 'Promoting', 20)],
  },
);

/** A parallel run 4m into its 10m mirror step, with two answers that differed. */
export const parallelRun = orders(
  canary({
    strategy: 'Canary',
    canary: {
      traffic: { router: 'gatewayAPI', gatewayAPI: { httpRoute: 'shop' } },
      steps: [
        { mirror: { duration: '10m' } },
        { match: [{ headers: { 'x-beta': { exact: 'true' } } }] },
        { setWeight: 10 },
      ],
    },
  }),
  {
    observedGeneration: 7,
    phase: 'Progressing',
    stableRevision: '2adba111',
    canaryRevision: '3fd15463',
    currentStep: 0,
    stepCount: 3,
    release: { strategy: 'Canary', revision: '3fd15463', step: 0, stepStartTime: ago(240), desiredWeight: 0 },
    desiredWeight: 0,
    canaryWeight: 0,
    analysis: {
      differences: ['GET /orders/7: body $.total: 10 != 11', 'GET /orders?page=*: status 200 != 500'],
    },
    conditions: [condition('Ready', 'False', 'Progressing', 240)],
  },
);

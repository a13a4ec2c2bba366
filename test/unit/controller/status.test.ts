import type { V1Deployment, V1DeploymentCondition } from '@kubernetes/client-node';
import { LABEL_REVISION } from '../../../src/api/constants';
import type { MicroserviceStatus } from '../../../src/api/types';
import type { Condition } from '../../../src/controller/conditions';
import { deriveStatus, type Observation, type ReconcileFailure, statusEvents } from '../../../src/controller/status';
import { stableStringify } from '../../../src/render';
import type { ReleasePlan } from '../../../src/rollout/release';

const T0 = '2025-03-01T09:00:00.000Z';
const NOW = '2025-03-01T10:00:00.000Z';
const LATER = '2025-03-01T10:05:00.000Z';
const LATEST = '2025-03-01T10:10:00.000Z';

const SELECTOR = 'msop.dev/microservice=orders';

interface DeploymentState {
  revision?: string;
  generation?: number;
  observedGeneration?: number;
  replicas?: number;
  updated?: number;
  ready?: number;
  available?: number;
  conditions?: V1DeploymentCondition[];
}

/** The stable Deployment as the informer sees it; by default fully rolled out on rev2 with 3 pods. */
function deployment(state: DeploymentState = {}): V1Deployment {
  const {
    revision = 'rev2',
    generation = 7,
    observedGeneration = generation,
    replicas = 3,
    updated = replicas,
    ready = replicas,
    available = replicas,
    conditions,
  } = state;
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'orders', namespace: 'shop', generation },
    spec: {
      selector: { matchLabels: { 'msop.dev/microservice': 'orders' } },
      template: { metadata: { labels: { 'msop.dev/microservice': 'orders', [LABEL_REVISION]: revision } } },
    },
    status: {
      observedGeneration,
      replicas,
      updatedReplicas: updated,
      readyReplicas: ready,
      availableReplicas: available,
      ...(conditions ? { conditions } : {}),
    },
  };
}

function observation(overrides: Partial<Observation> = {}): Observation {
  return {
    generation: 2,
    desiredRevision: 'rev2',
    desiredReplicas: 3,
    deployment: deployment(),
    heldBack: false,
    selector: SELECTOR,
    ...overrides,
  };
}

const terminal: ReconcileFailure = {
  reason: 'ConfigMapNotFound',
  message: 'ConfigMap shop/settings referenced in spec.env or spec.envFrom was not found',
  terminal: true,
};
const transient: ReconcileFailure = {
  reason: 'ReconcileError',
  message: 'PATCH /apis/apps/v1/namespaces/shop/deployments/orders: connect ECONNREFUSED',
  terminal: false,
};
const deadlineExceeded: V1DeploymentCondition = {
  type: 'Progressing',
  status: 'False',
  reason: 'ProgressDeadlineExceeded',
  message: 'ReplicaSet "orders-7b66c4d1" has timed out progressing.',
};

/** Ready on rev1: the status an earlier release left behind. */
const stableOnRev1 = deriveStatus(
  undefined,
  observation({ generation: 1, desiredRevision: 'rev1', deployment: deployment({ revision: 'rev1', generation: 3 }) }),
  T0,
);
const stalledOnConfigMap = deriveStatus(undefined, observation({ failure: terminal }), T0);

const rollingOut = observation({ deployment: deployment({ updated: 1, ready: 2, available: 2, replicas: 4 }) });

type Summary = [type: string, status: string, reason: string];
const summary = (status: MicroserviceStatus): Summary[] =>
  (status.conditions ?? []).map((c) => [c.type, c.status, c.reason]);
const conditionOf = (status: MicroserviceStatus, type: string): Condition | undefined =>
  status.conditions?.find((c) => c.type === type) as Condition | undefined;

describe('deriveStatus', () => {
  test('paused before the first deployment says so, and how to deploy', () => {
    const next = deriveStatus(undefined, observation({ deployment: undefined, heldBack: true }), NOW);
    expect(next.phase).toBe('Paused');
    expect(next.message).toMatch(
      /^Release paused before the first deployment: set spec.release.paused to false to deploy revision /,
    );
  });

  test('a transient error after a stall leaves phase Failed, since the stall is gone', () => {
    const next = deriveStatus(stalledOnConfigMap, observation({ failure: transient }), NOW);
    expect(next.phase).toBe('Initializing');
    expect(conditionOf(next, 'Stalled')).toBeUndefined();
    expect(conditionOf(next, 'Reconciling')).toMatchObject({ status: 'True', reason: 'RetryingAfterError' });
  });

  test('a Deployment fully rolled out on the desired revision is Ready', () => {
    const status = deriveStatus(undefined, observation(), NOW);
    expect(status).toEqual({
      observedGeneration: 2,
      phase: 'Ready',
      conditions: [
        {
          type: 'Ready',
          status: 'True',
          observedGeneration: 2,
          lastTransitionTime: NOW,
          reason: 'Succeeded',
          message: 'Deployment orders is available with 3/3 ready replicas on revision rev2',
        },
      ],
      stableRevision: 'rev2',
      replicas: 3,
      readyReplicas: 3,
      updatedReplicas: 3,
      availableReplicas: 3,
      selector: SELECTOR,
      ready: '3/3',
      message: 'Deployment orders is available with 3/3 ready replicas on revision rev2',
    });
  });

  test('Ready replaces an earlier stableRevision and sets observedGeneration on every condition', () => {
    const previous = deriveStatus(stableOnRev1, rollingOut, NOW);
    const status = deriveStatus(previous, observation({ generation: 3 }), LATER);
    expect(status.phase).toBe('Ready');
    expect(status.stableRevision).toBe('rev2');
    expect(status.observedGeneration).toBe(3);
    expect(status.conditions?.map((c) => c.observedGeneration)).toEqual([3]);
    expect(summary(status)).toEqual([['Ready', 'True', 'Succeeded']]);
  });

  test.each<[string, MicroserviceStatus | undefined, Observation, string, Summary[], string | undefined, string]>([
    [
      'the first release rolling out is Initializing',
      undefined,
      rollingOut,
      'Initializing',
      [
        ['Ready', 'False', 'Progressing'],
        ['Reconciling', 'True', 'Progressing'],
      ],
      undefined,
      'Rolling out revision rev2: 1/3 updated, 2/3 available',
    ],
    [
      'a later release rolling out is Progressing and keeps the stableRevision',
      stableOnRev1,
      rollingOut,
      'Progressing',
      [
        ['Ready', 'False', 'Progressing'],
        ['Reconciling', 'True', 'Progressing'],
      ],
      'rev1',
      'Rolling out revision rev2: 1/3 updated, 2/3 available',
    ],
    [
      'a Deployment past its progress deadline is Failed and Stalled',
      stableOnRev1,
      observation({ deployment: deployment({ updated: 1, available: 2, conditions: [deadlineExceeded] }) }),
      'Failed',
      [
        ['Ready', 'False', 'ProgressDeadlineExceeded'],
        ['Stalled', 'True', 'ProgressDeadlineExceeded'],
      ],
      'rev1',
      'Deployment orders exceeded its progress deadline (spec.release.progressDeadlineSeconds): ReplicaSet "orders-7b66c4d1" has timed out progressing.',
    ],
    [
      'a terminal failure is Failed and Stalled with its reason',
      undefined,
      observation({ desiredRevision: undefined, deployment: undefined, failure: terminal }),
      'Failed',
      [
        ['Ready', 'False', 'ConfigMapNotFound'],
        ['Stalled', 'True', 'ConfigMapNotFound'],
      ],
      undefined,
      terminal.message,
    ],
    [
      'a terminal failure wins over a complete Deployment',
      stableOnRev1,
      observation({ failure: terminal }),
      'Failed',
      [
        ['Ready', 'False', 'ConfigMapNotFound'],
        ['Stalled', 'True', 'ConfigMapNotFound'],
      ],
      'rev1',
      terminal.message,
    ],
    [
      'a transient failure is retried, not Stalled',
      undefined,
      observation({ failure: transient }),
      'Initializing',
      [
        ['Ready', 'False', 'ReconcileError'],
        ['Reconciling', 'True', 'RetryingAfterError'],
      ],
      undefined,
      `Reconcile failed, retrying: ${transient.message}`,
    ],
    [
      'a transient failure keeps the previous phase',
      stableOnRev1,
      observation({ failure: transient }),
      'Ready',
      [
        ['Ready', 'False', 'ReconcileError'],
        ['Reconciling', 'True', 'RetryingAfterError'],
      ],
      'rev1',
      `Reconcile failed, retrying: ${transient.message}`,
    ],
    [
      'a held-back release is Paused, with the serving revision as stable',
      undefined,
      observation({ heldBack: true, deployment: deployment({ revision: 'rev1' }) }),
      'Paused',
      [['Ready', 'False', 'Paused']],
      'rev1',
      'Release paused: revision rev2 waits while rev1 keeps serving; set spec.release.paused to false to resume',
    ],
    [
      'a held-back release keeps the earlier stableRevision while its Deployment is not complete',
      stableOnRev1,
      observation({ heldBack: true, deployment: deployment({ revision: 'rev1', available: 2 }) }),
      'Paused',
      [['Ready', 'False', 'Paused']],
      'rev1',
      'Release paused: revision rev2 waits while rev1 keeps serving; set spec.release.paused to false to resume',
    ],
  ])('%s', (_name, previous, obs, phase, conditions, stableRevision, message) => {
    const status = deriveStatus(previous, obs, NOW);
    expect(status.phase).toBe(phase);
    expect(summary(status)).toEqual(conditions);
    expect(status.stableRevision).toBe(stableRevision);
    expect('stableRevision' in status).toBe(stableRevision !== undefined);
    expect(status.message).toBe(message);
    expect(status.observedGeneration).toBe(obs.generation);
    expect(status.conditions?.map((c) => c.observedGeneration)).toEqual(conditions.map(() => obs.generation));
  });

  test('a Stalled condition carries the failure reason and message', () => {
    const status = deriveStatus(undefined, observation({ failure: terminal }), NOW);
    expect(conditionOf(status, 'Stalled')).toEqual({
      type: 'Stalled',
      status: 'True',
      observedGeneration: 2,
      lastTransitionTime: NOW,
      reason: 'ConfigMapNotFound',
      message: terminal.message,
    });
    expect(conditionOf(status, 'Ready')?.message).toBe(terminal.message);
  });

  test.each<[string, MicroserviceStatus]>([
    ['a Stalled', stalledOnConfigMap],
    ['a Ready', stableOnRev1],
  ])('a transient failure after %s status clears Stalled and sets Reconciling', (_name, previous) => {
    const status = deriveStatus(previous, observation({ failure: transient }), NOW);
    expect(conditionOf(status, 'Stalled')).toBeUndefined();
    expect(conditionOf(status, 'Reconciling')).toMatchObject({
      status: 'True',
      reason: 'RetryingAfterError',
      message: `Reconcile failed, retrying: ${transient.message}`,
    });
  });

  test.each<[string, MicroserviceStatus]>([
    ['rolling out', deriveStatus(undefined, rollingOut, T0)],
    ['stalled', stalledOnConfigMap],
  ])('pausing a release that was %s clears Reconciling and Stalled', (_name, previous) => {
    const status = deriveStatus(
      previous,
      observation({ heldBack: true, deployment: deployment({ revision: 'rev1' }) }),
      NOW,
    );
    expect(summary(status)).toEqual([['Ready', 'False', 'Paused']]);
  });

  test.each<[string, V1DeploymentCondition[]]>([
    ['Progressing=True', [{ type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable' }]],
    ['Progressing=False for another reason', [{ type: 'Progressing', status: 'False', reason: 'Other' }]],
    ['Available=False', [{ type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable' }]],
  ])('a Deployment with %s does not stall', (_name, conditions) => {
    const status = deriveStatus(undefined, observation({ deployment: deployment({ conditions }) }), NOW);
    expect(status.phase).toBe('Ready');
    expect(conditionOf(status, 'Stalled')).toBeUndefined();
  });

  test('a progress deadline message without detail has no trailing space', () => {
    const bare: V1DeploymentCondition = { type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' };
    const status = deriveStatus(undefined, observation({ deployment: deployment({ conditions: [bare] }) }), NOW);
    expect(conditionOf(status, 'Stalled')?.message).toBe(
      'Deployment orders exceeded its progress deadline (spec.release.progressDeadlineSeconds):',
    );
  });

  describe('a rollout that is not complete', () => {
    test.each<[string, V1Deployment | undefined, string]>([
      [
        'the Deployment status is behind its generation',
        deployment({ generation: 8, observedGeneration: 7 }),
        'Rolling out revision rev2: 3/3 updated, 3/3 available',
      ],
      [
        'the Deployment status has no observedGeneration',
        { ...deployment({ generation: 1 }), status: { replicas: 3, updatedReplicas: 3, availableReplicas: 3 } },
        'Rolling out revision rev2: 3/3 updated, 3/3 available',
      ],
      [
        'fewer pods are updated than desired',
        deployment({ updated: 2 }),
        'Rolling out revision rev2: 2/3 updated, 3/3 available',
      ],
      [
        'fewer pods are available than desired',
        deployment({ available: 2 }),
        'Rolling out revision rev2: 3/3 updated, 2/3 available',
      ],
      [
        'old pods are still running beside the new ones',
        deployment({ replicas: 4, updated: 3, available: 3 }),
        'Rolling out revision rev2: 3/3 updated, 3/3 available',
      ],
      [
        'the Deployment runs another revision',
        deployment({ revision: 'rev1' }),
        'Deployment orders is available with 3/3 ready replicas on revision rev1',
      ],
      ['the Deployment does not exist yet', undefined, 'Waiting for the Deployment to be created'],
    ])('is not Ready when %s', (_name, dep, message) => {
      const status = deriveStatus(undefined, observation({ deployment: dep }), NOW);
      expect(status.phase).toBe('Initializing');
      expect(summary(status)).toEqual([
        ['Ready', 'False', 'Progressing'],
        ['Reconciling', 'True', 'Progressing'],
      ]);
      expect(status.message).toBe(message);
      expect(status.stableRevision).toBeUndefined();
    });

    test('a Deployment status that caught up with its generation completes', () => {
      const dep = deployment({ generation: 8, observedGeneration: 9 });
      expect(deriveStatus(undefined, observation({ deployment: dep }), NOW).phase).toBe('Ready');
    });
  });

  test.each<[string, V1Deployment | undefined, number, Partial<MicroserviceStatus>]>([
    [
      'a rolling Deployment',
      deployment({ replicas: 4, updated: 1, ready: 2, available: 2 }),
      3,
      { replicas: 4, readyReplicas: 2, updatedReplicas: 1, availableReplicas: 2, ready: '2/3' },
    ],
    [
      'a Deployment without status',
      { ...deployment(), status: undefined },
      5,
      { replicas: 0, readyReplicas: 0, updatedReplicas: 0, availableReplicas: 0, ready: '0/5' },
    ],
    [
      'no Deployment',
      undefined,
      2,
      { replicas: 0, readyReplicas: 0, updatedReplicas: 0, availableReplicas: 0, ready: '0/2' },
    ],
  ])('copies the replica counts of %s', (_name, dep, desiredReplicas, expected) => {
    const status = deriveStatus(undefined, observation({ deployment: dep, desiredReplicas }), NOW);
    expect(status).toMatchObject({ ...expected, selector: SELECTOR });
  });

  describe('idempotence', () => {
    test.each<[string, MicroserviceStatus | undefined, Observation]>([
      ['Ready', undefined, observation()],
      ['Initializing', undefined, rollingOut],
      ['Progressing', stableOnRev1, rollingOut],
      [
        'Failed on a progress deadline',
        stableOnRev1,
        observation({ deployment: deployment({ conditions: [deadlineExceeded] }) }),
      ],
      ['Failed on a terminal error', undefined, observation({ failure: terminal })],
      ['retrying a transient error', stableOnRev1, observation({ failure: transient })],
      ['Paused', stableOnRev1, observation({ heldBack: true, deployment: deployment({ revision: 'rev1' }) })],
    ])('deriving %s twice from the same observation gives an equal status', (_name, previous, obs) => {
      const first = deriveStatus(previous, obs, NOW);
      const second = deriveStatus(first, obs, LATER);
      expect(second).toEqual(first);
      expect(stableStringify(second)).toBe(stableStringify(first));
      expect(second.conditions?.map((c) => c.lastTransitionTime)).toEqual(first.conditions?.map(() => NOW));
    });

    test('does not change the previous status', () => {
      const previous = deriveStatus(undefined, rollingOut, NOW);
      const copy = structuredClone(previous);
      deriveStatus(previous, observation({ failure: terminal }), LATER);
      expect(previous).toEqual(copy);
    });
  });

  describe('lastTransitionTime', () => {
    test('moves only for conditions whose status changed', () => {
      const rolling = deriveStatus(stableOnRev1, rollingOut, NOW);
      expect(rolling.conditions?.map((c) => [c.type, c.lastTransitionTime])).toEqual([
        ['Ready', NOW],
        ['Reconciling', NOW],
      ]);

      const retrying = deriveStatus(rolling, observation({ generation: 3, failure: transient }), LATER);
      expect(retrying.conditions?.map((c) => [c.type, c.reason, c.observedGeneration, c.lastTransitionTime])).toEqual([
        ['Ready', 'ReconcileError', 3, NOW],
        ['Reconciling', 'RetryingAfterError', 3, NOW],
      ]);

      const ready = deriveStatus(retrying, observation({ generation: 3 }), LATEST);
      expect(ready.conditions?.map((c) => [c.type, c.status, c.lastTransitionTime])).toEqual([
        ['Ready', 'True', LATEST],
      ]);
    });

    test('starts again for a condition that was removed and comes back', () => {
      const rolling = deriveStatus(undefined, rollingOut, T0);
      const ready = deriveStatus(rolling, observation(), NOW);
      const rollingAgain = deriveStatus(ready, { ...rollingOut, generation: 3, desiredRevision: 'rev3' }, LATER);
      expect(rollingAgain.conditions?.map((c) => [c.type, c.status, c.lastTransitionTime])).toEqual([
        ['Ready', 'False', LATER],
        ['Reconciling', 'True', LATER],
      ]);
    });
  });

  describe('condition order', () => {
    const condition = (type: string, status: Condition['status'] = 'True'): Condition => ({
      type,
      status,
      observedGeneration: 1,
      lastTransitionTime: T0,
      reason: 'Set',
      message: '',
    });

    test.each<[string, Condition[], Observation, string[]]>([
      [
        'a Stalled condition listed first',
        [condition('Stalled'), condition('Ready', 'False')],
        observation({ failure: terminal }),
        ['Ready', 'Stalled'],
      ],
      [
        'Reconciling listed before Ready',
        [condition('Reconciling'), condition('Ready', 'False')],
        rollingOut,
        ['Ready', 'Reconciling'],
      ],
      [
        'conditions of other types, kept after ours by name',
        [condition('Zeta'), condition('Alpha'), condition('Stalled')],
        observation({ failure: terminal }),
        ['Ready', 'Stalled', 'Alpha', 'Zeta'],
      ],
      [
        'all three of ours at once',
        [condition('Stalled'), condition('Reconciling'), condition('Ready')],
        observation({ failure: transient }),
        ['Ready', 'Reconciling'],
      ],
    ])('orders Ready, Reconciling, Stalled given %s', (_name, conditions, obs, types) => {
      const previous: MicroserviceStatus = { phase: 'Progressing', conditions };
      expect(deriveStatus(previous, obs, NOW).conditions?.map((c) => c.type)).toEqual(types);
    });
  });
});

describe('status.environment and status.defaulted', () => {
  const defaulted = [{ field: 'replicas', source: 'Environment/production', value: '4' }];
  const withEnvironment = observation({ environment: { name: 'production', defaulted } });

  test.each<[string, Observation, unknown, unknown]>([
    ['name and fields from the resolution', withEnvironment, 'production', defaulted],
    ['none of either', observation({ environment: { defaulted: [] } }), undefined, undefined],
  ])('%s', (_name, obs, environment, fields) => {
    const next = deriveStatus(undefined, obs, NOW);
    expect(next.environment).toBe(environment);
    expect(next.defaulted).toEqual(fields);
  });

  test('a failed resolution (no environment in the observation) keeps the previous ones', () => {
    const previous = deriveStatus(undefined, withEnvironment, NOW);
    const next = deriveStatus(previous, observation({ failure: terminal }), NOW);
    expect(next.environment).toBe('production');
    expect(next.defaulted).toEqual(defaulted);
  });
});

describe('statusEvents', () => {
  const ready = deriveStatus(undefined, observation(), NOW);
  const rolling = deriveStatus(stableOnRev1, rollingOut, NOW);
  const paused = deriveStatus(
    rolling,
    observation({ heldBack: true, deployment: deployment({ revision: 'rev1' }) }),
    LATER,
  );
  const deadline = deriveStatus(
    rolling,
    observation({ deployment: deployment({ updated: 1, conditions: [deadlineExceeded] }) }),
    LATER,
  );
  const otherStall = deriveStatus(
    stalledOnConfigMap,
    observation({ failure: { reason: 'SecretNotFound', message: 'Secret shop/creds was not found', terminal: true } }),
    LATER,
  );
  const readyMessage = 'Deployment orders is available with 3/3 ready replicas on revision rev2';

  test.each<[string, MicroserviceStatus | undefined, MicroserviceStatus, ReturnType<typeof statusEvents>]>([
    [
      'a new stall',
      undefined,
      stalledOnConfigMap,
      [{ type: 'Warning', reason: 'ConfigMapNotFound', message: terminal.message }],
    ],
    [
      'a rollout that stalls',
      rolling,
      deadline,
      [
        {
          type: 'Warning',
          reason: 'ProgressDeadlineExceeded',
          message:
            'Deployment orders exceeded its progress deadline (spec.release.progressDeadlineSeconds): ReplicaSet "orders-7b66c4d1" has timed out progressing.',
        },
      ],
    ],
    [
      'a stall for another reason',
      stalledOnConfigMap,
      otherStall,
      [{ type: 'Warning', reason: 'SecretNotFound', message: 'Secret shop/creds was not found' }],
    ],
    [
      'the same stall again',
      stalledOnConfigMap,
      deriveStatus(stalledOnConfigMap, observation({ failure: terminal }), LATER),
      [],
    ],
    [
      'becoming Ready after a rollout',
      rolling,
      deriveStatus(rolling, observation(), LATER),
      [{ type: 'Normal', reason: 'Ready', message: readyMessage }],
    ],
    [
      'becoming Ready on the first reconcile',
      undefined,
      ready,
      [{ type: 'Normal', reason: 'Ready', message: readyMessage }],
    ],
    ['staying Ready', ready, deriveStatus(ready, observation(), LATER), []],
    [
      'a stall clearing into a rollout',
      stalledOnConfigMap,
      deriveStatus(stalledOnConfigMap, rollingOut, LATER),
      [{ type: 'Normal', reason: 'Recovered', message: 'Rolling out revision rev2: 1/3 updated, 2/3 available' }],
    ],
    [
      'a stall clearing straight into Ready',
      stalledOnConfigMap,
      deriveStatus(stalledOnConfigMap, observation(), LATER),
      [{ type: 'Normal', reason: 'Ready', message: readyMessage }],
    ],
    [
      'a release being paused',
      rolling,
      paused,
      [
        {
          type: 'Normal',
          reason: 'Paused',
          message:
            'Release paused: revision rev2 waits while rev1 keeps serving; set spec.release.paused to false to resume',
        },
      ],
    ],
    [
      'staying paused',
      paused,
      deriveStatus(paused, observation({ heldBack: true, deployment: deployment({ revision: 'rev1' }) }), LATEST),
      [],
    ],
    ['a first rollout starting', undefined, deriveStatus(undefined, rollingOut, NOW), []],
    ['a rollout starting after Ready', ready, deriveStatus(ready, rollingOut, LATER), []],
    [
      'a rollout making progress',
      rolling,
      deriveStatus(rolling, observation({ deployment: deployment({ updated: 2 }) }), LATER),
      [],
    ],
    [
      'a transient failure during a rollout',
      rolling,
      deriveStatus(rolling, observation({ failure: transient }), LATER),
      [],
    ],
  ])('%s', (_name, previous, next, expected) => {
    expect(statusEvents(previous, next)).toEqual(expected);
  });
});

describe('status.release', () => {
  const idlePlan = (state: ReleasePlan['state']): ReleasePlan => ({
    deploymentTemplate: 'desired',
    deleteCanaries: false,
    state,
    released: { status: 'True', reason: 'Released', message: 'Revision rev2 is stable' },
    canaryWeight: 0,
    events: [],
  });

  test('a release over leaves no status.release, not an empty object (the API server would store null)', () => {
    const status = deriveStatus(
      undefined,
      observation({ release: { plan: idlePlan({ failedRevision: undefined }) } }),
      T0,
    );
    expect('release' in status).toBe(false);
    expect(status.canaryRevision).toBeUndefined();
  });

  test('the canary weight (the WEIGHT column) is set during a release only: empty after it, as before the first', () => {
    const during = deriveStatus(
      undefined,
      observation({
        release: { plan: { ...idlePlan({ strategy: 'Canary', revision: 'rev3', step: 1 }), canaryWeight: 25 } },
      }),
      T0,
    );
    expect(during.canaryWeight).toBe(25);
    const promoting = deriveStatus(
      during,
      observation({ release: { plan: idlePlan({ strategy: 'Canary', revision: 'rev3', step: 2 }) } }),
      T0,
    );
    expect(promoting.canaryWeight).toBe(0);
    const after = deriveStatus(promoting, observation({ release: { plan: idlePlan({}) } }), T0);
    expect('canaryWeight' in after).toBe(false);
    const neverReleased = deriveStatus(undefined, observation({}), T0);
    expect('canaryWeight' in neverReleased).toBe(false);
  });

  test('a promotion by adoption: the pods move from the canary into the Deployment, and status does not change', () => {
    // Replicas 1, the canary's one ready pod beside the stable's (rollout/pod-counts.ts). From the first
    // reconcile of the promotion, the Deployment's counts move five times while no pod does: its template
    // moves, its status catches up (updated 0), the canary set is handed over (it leaves the canary), the
    // Deployment claims it (2 pods against spec.replicas 1), and it scales the old set to 0 while the old
    // pod still runs.
    const state = { strategy: 'Canary' as const, revision: 'rev3', step: 2, desiredWeight: 50, stepStartTime: T0 };
    const plan: ReleasePlan = { ...idlePlan(state), phase: 'Promoting', canaryWeight: 50, message: 'Promoting rev3' };
    const counts = (replicas: number, ready: number) => ({
      replicas,
      pods: ready,
      readyReplicas: ready,
      availableReplicas: ready,
    });
    const stage = (
      dep: DeploymentState,
      canary: { replicas: number; readyReplicas: number } | undefined,
      oldSet = counts(1, 1),
    ) =>
      observation({
        desiredRevision: 'rev3',
        desiredReplicas: 1,
        deployment: deployment(dep),
        release: { plan, stepCount: 2, canary, pods: { desired: counts(1, 1), other: oldSet } },
      });
    const moved = deriveStatus(
      undefined,
      stage({ revision: 'rev2', replicas: 1 }, { replicas: 1, readyReplicas: 1 }),
      T0,
    );
    // The promotion ends with the new pod alone; both still run.
    expect(moved).toMatchObject({
      replicas: 2,
      readyReplicas: 2,
      updatedReplicas: 1,
      availableReplicas: 2,
      ready: '2/1',
      canaryReplicas: 1,
      canaryReadyReplicas: 1,
    });
    const stages = [
      stage({ revision: 'rev3', replicas: 1, observedGeneration: 6 }, { replicas: 1, readyReplicas: 1 }),
      stage({ revision: 'rev3', replicas: 1, updated: 0 }, { replicas: 1, readyReplicas: 1 }),
      stage({ revision: 'rev3', replicas: 1, updated: 0 }, undefined),
      stage({ revision: 'rev3', replicas: 2, updated: 1, ready: 2, available: 2 }, undefined),
      stage({ revision: 'rev3', replicas: 2, updated: 1, ready: 2, available: 2 }, undefined, counts(0, 1)),
    ];
    for (const obs of stages) expect(stableStringify(deriveStatus(moved, obs, LATER))).toBe(stableStringify(moved));
  });

  test('outside a release the counts are the Deployment’s, and a canary being drained', () => {
    const pods = {
      desired: { replicas: 9, pods: 9, readyReplicas: 9, availableReplicas: 9 },
      other: { replicas: 0, pods: 0, readyReplicas: 0, availableReplicas: 0 },
    };
    const status = deriveStatus(
      undefined,
      observation({
        release: { plan: idlePlan({ failedRevision: 'rev3' }), canary: { replicas: 1, readyReplicas: 0 }, pods },
      }),
      T0,
    );
    expect(status).toMatchObject({
      replicas: 4,
      readyReplicas: 3,
      updatedReplicas: 3,
      ready: '3/4',
      canaryReplicas: 1,
      canaryReadyReplicas: 0,
    });
  });

  test('the persisted state and its views', () => {
    const state = { strategy: 'Canary' as const, revision: 'rev3', step: 1, desiredWeight: 25, stepStartTime: T0 };
    const status = deriveStatus(
      undefined,
      observation({ release: { plan: { ...idlePlan(state), phase: 'Progressing' }, stepCount: 4 } }),
      T0,
    );
    expect(status).toMatchObject({
      release: state,
      canaryRevision: 'rev3',
      currentStep: 1,
      stepCount: 4,
      desiredWeight: 25,
    });
  });
});

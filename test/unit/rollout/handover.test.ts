import type { Action } from '../../../src/rollout/actions';
import { type HandoverObservation, handoverStep, withHandover } from '../../../src/rollout/handover';

const deployment = (over: Partial<NonNullable<HandoverObservation['deployment']>> = {}) => ({
  revision: 'old',
  paused: false,
  observed: true,
  replicas: 2,
  complete: true,
  ...over,
});
const base: HandoverObservation = {
  eligible: true,
  desiredRevision: 'new',
  promoting: true,
  deployment: deployment(),
  canary: { replicas: 4, readyReplicas: 4, adoptable: true },
  orphaned: false,
  plannedReplicas: 4,
};

test.each<[string, Partial<HandoverObservation>, ReturnType<typeof handoverStep>]>([
  [
    'a ready full-size canary: pause the Deployment on the new template at its pods, maxSurge the canary',
    {},
    { step: 'pause', replicas: 2, maxSurge: 4 },
  ],
  ['a weighted router or an HPA: the rolling promotion', { eligible: false }, { step: 'none' }],
  ['not yet promoting', { promoting: false }, { step: 'none' }],
  ['canary pods not all ready', { canary: { replicas: 4, readyReplicas: 3, adoptable: true } }, { step: 'none' }],
  [
    'a canary made with the track in its selector cannot be relabelled',
    { canary: { replicas: 4, readyReplicas: 4, adoptable: false } },
    { step: 'none' },
  ],
  ['no Deployment yet', { deployment: undefined }, { step: 'none' }],
  [
    'paused on the new template, not yet seen by its controller',
    { deployment: deployment({ revision: 'new', paused: true, observed: false }) },
    { step: 'wait' },
  ],
  [
    'paused and seen: hand the canary over',
    { deployment: deployment({ revision: 'new', paused: true }) },
    { step: 'adopt' },
  ],
  [
    'handed over, not yet claimed by the Deployment controller: unpausing now would resize its pods away',
    { deployment: deployment({ revision: 'new', paused: true }), canary: undefined, orphaned: true },
    { step: 'wait' },
  ],
  [
    'adopted: the Deployment takes its size, maxSurge the old pods',
    { deployment: deployment({ revision: 'new', paused: true }), canary: undefined, adopted: { replicas: 4 } },
    { step: 'resize', replicas: 4, maxSurge: 2 },
  ],
  [
    'resized, not yet seen by its controller',
    {
      deployment: deployment({ revision: 'new', paused: true, replicas: 4, observed: false }),
      canary: undefined,
      adopted: { replicas: 4 },
    },
    { step: 'wait' },
  ],
  [
    'resized and seen, old pods still there: the plan unpauses it, and the rolling update removes them',
    {
      deployment: deployment({ revision: 'new', paused: true, replicas: 4 }),
      canary: undefined,
      adopted: { replicas: 4 },
    },
    { step: 'release' },
  ],
  [
    'adopted at the size the Deployment already has (the canary as large as the stable): no resize',
    {
      deployment: deployment({ revision: 'new', paused: true }),
      canary: undefined,
      adopted: { replicas: 2 },
      plannedReplicas: 2,
    },
    { step: 'release' },
  ],
  [
    'spec.replicas changed mid-handover: stay paused while the old pods go, unpausing would resize both sets',
    {
      deployment: deployment({ revision: 'new', paused: true, replicas: 4, complete: false }),
      canary: undefined,
      adopted: { replicas: 4 },
      plannedReplicas: 6,
    },
    { step: 'wait' },
  ],
  [
    'spec.replicas changed mid-handover, old pods gone: the plan unpauses and resizes the one set left',
    {
      deployment: deployment({ revision: 'new', paused: true, replicas: 4 }),
      canary: undefined,
      adopted: { replicas: 4 },
      plannedReplicas: 6,
    },
    { step: 'none' },
  ],
  [
    'paused on a revision no longer desired: resume',
    { deployment: deployment({ revision: 'other', paused: true }) },
    { step: 'resume' },
  ],
  [
    'unpaused on the desired revision: nothing to do',
    { deployment: deployment({ revision: 'new' }) },
    { step: 'none' },
  ],
])('%s', (_, over, expected) => {
  expect(handoverStep({ ...base, ...over })).toEqual(expected);
});

const planned: Action[] = [
  { kind: 'applyReplicaSet', track: 'canary', revision: 'new', replicas: 4 },
  { kind: 'applyDeployment', replicas: 4 },
  { kind: 'event', event: { type: 'Normal', reason: 'X', message: 'x' } },
];

test.each<[string, Parameters<typeof withHandover>[1], Action['kind'][]]>([
  ['none keeps the plan', { step: 'none' }, ['applyReplicaSet', 'applyDeployment', 'event']],
  [
    'pause writes the paused Deployment only',
    { step: 'pause', replicas: 2, maxSurge: 4 },
    ['applyDeployment', 'event'],
  ],
  ['adopt hands the canary over, no Deployment write', { step: 'adopt' }, ['adoptCanary', 'event']],
  ['wait writes neither', { step: 'wait' }, ['event']],
  [
    'resize writes the paused Deployment and relabels any canary pod the adopt step missed',
    { step: 'resize', replicas: 4, maxSurge: 2 },
    ['applyDeployment', 'relabelCanaryPods', 'event'],
  ],
  [
    'release keeps the plan and relabels any canary pod the earlier steps missed',
    { step: 'release' },
    ['applyReplicaSet', 'applyDeployment', 'relabelCanaryPods', 'event'],
  ],
  ['resume resumes', { step: 'resume' }, ['resumeDeployment', 'event']],
])('withHandover: %s', (_, handover, kinds) => {
  expect(withHandover(planned, handover).map((a) => a.kind)).toEqual(kinds);
});

test('the paused Deployment carries the handover size', () => {
  expect(withHandover(planned, { step: 'resize', replicas: 4, maxSurge: 2 })[0]).toEqual({
    kind: 'applyDeployment',
    paused: { replicas: 4, maxSurge: 2 },
  });
});

import { podsByRevision, type ReplicaSetCounts } from '../../../src/rollout/pod-counts';

const set = (over: Partial<ReplicaSetCounts>): ReplicaSetCounts => ({
  revision: 'new',
  track: 'stable',
  controller: 'deployment',
  replicas: 1,
  pods: 1,
  readyReplicas: 1,
  availableReplicas: 1,
  ...over,
});
const oldStable = (n: number) => set({ revision: 'old', replicas: n, pods: n, readyReplicas: n, availableReplicas: n });
const one = { replicas: 1, pods: 1, readyReplicas: 1, availableReplicas: 1 };
const none = { replicas: 0, pods: 0, readyReplicas: 0, availableReplicas: 0 };

describe('podsByRevision', () => {
  // The worked example of pod-counts.ts: replicas 1, promoted by adoption. No pod changes until the old
  // set is scaled down, and no count does.
  test.each<[string, ReplicaSetCounts[], { desired: typeof one; other: typeof one }]>([
    [
      'canary running',
      [oldStable(1), set({ track: 'canary', controller: 'microservice' })],
      { desired: one, other: one },
    ],
    [
      'handed over (orphaned, relabelled stable)',
      [oldStable(1), set({ controller: 'none' })],
      { desired: one, other: one },
    ],
    ['claimed by the Deployment', [oldStable(1), set({})], { desired: one, other: one }],
    ['old set scaled to 0', [oldStable(0), set({})], { desired: one, other: none }],
  ])('%s', (_name, sets, expected) => {
    expect(podsByRevision(sets, 'new', 'canary')).toEqual(expected);
  });

  test('baseline and comparator sets, a stale canary, and sets of another owner are not the release’s pods', () => {
    const sets = [
      oldStable(2),
      set({
        track: 'canary',
        controller: 'microservice',
        replicas: 2,
        pods: 2,
        readyReplicas: 1,
        availableReplicas: 1,
      }),
      set({ revision: 'old', track: 'baseline', controller: 'microservice' }),
      set({ revision: 'cmp', track: 'comparator', controller: 'microservice' }),
      set({ revision: 'older', track: 'canary', controller: 'microservice' }),
      set({ controller: 'other' }),
      // An orphan of another revision is nobody's hand-over.
      set({ revision: 'older', controller: 'none' }),
    ];
    expect(podsByRevision(sets, 'new', 'canary')).toEqual({
      desired: { replicas: 2, pods: 2, readyReplicas: 1, availableReplicas: 1 },
      other: { replicas: 2, pods: 2, readyReplicas: 2, availableReplicas: 2 },
    });
  });

  test('BlueGreen: the preview track is the new revision’s', () => {
    const sets = [
      oldStable(3),
      set({
        track: 'preview',
        controller: 'microservice',
        replicas: 3,
        pods: 3,
        readyReplicas: 3,
        availableReplicas: 3,
      }),
    ];
    expect(podsByRevision(sets, 'new', 'preview').desired.readyReplicas).toBe(3);
    expect(podsByRevision(sets, 'new', 'canary').desired.readyReplicas).toBe(0);
  });
});

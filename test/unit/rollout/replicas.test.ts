import { canaryReplicasFor, replicaWeight, stableReplicasFor } from '../../../src/rollout/replicas';

// Argo Rollouts style (utils/replicaset/canary_test.go): one row per weight, one column per total N.
const TOTALS = [0, 1, 2, 3, 4, 5, 10] as const;

// canary = ceil(weight × N / 100), at least 1 for a weight above 0, at most N; 0 when N is 0.
const CANARY: [number, number[]][] = [
  //    N: 0  1  2  3  4  5  10
  [0, [0, 0, 0, 0, 0, 0, 0]],
  [1, [0, 1, 1, 1, 1, 1, 1]],
  [10, [0, 1, 1, 1, 1, 1, 1]],
  [25, [0, 1, 1, 1, 1, 2, 3]],
  [33, [0, 1, 1, 1, 2, 2, 4]],
  [50, [0, 1, 1, 2, 2, 3, 5]],
  [75, [0, 1, 2, 3, 3, 4, 8]],
  [99, [0, 1, 2, 3, 4, 5, 10]],
  [100, [0, 1, 2, 3, 4, 5, 10]],
];

// stable = N − canary, never below 1 while N > 0 (the stable revision always serves); 0 when N is 0.
const STABLE: [number, number[]][] = [
  //    N: 0  1  2  3  4  5  10
  [0, [0, 1, 2, 3, 4, 5, 10]],
  [1, [0, 1, 1, 2, 3, 4, 9]],
  [10, [0, 1, 1, 2, 3, 4, 9]],
  [25, [0, 1, 1, 2, 3, 3, 7]],
  [33, [0, 1, 1, 2, 2, 3, 6]],
  [50, [0, 1, 1, 1, 2, 2, 5]],
  [75, [0, 1, 1, 1, 1, 1, 2]],
  [99, [0, 1, 1, 1, 1, 1, 1]],
  [100, [0, 1, 1, 1, 1, 1, 1]],
];

const rows = (table: [number, number[]][]) =>
  table.flatMap(([weight, counts]) => counts.map((count, i) => [weight, TOTALS[i]!, count] as const));

describe('canaryReplicasFor', () => {
  test.each(rows(CANARY))('weight %d of %d pods is %d canary pods', (weight, total, canary) => {
    expect(canaryReplicasFor(weight, total)).toBe(canary);
  });

  test.each<[number, number, number]>([
    [-10, 4, 0],
    [20, -1, 0],
    [150, 4, 4],
  ])('out-of-range weight %d of %d pods is %d canary pods', (weight, total, canary) => {
    expect(canaryReplicasFor(weight, total)).toBe(canary);
  });
});

describe('stableReplicasFor', () => {
  test.each(rows(STABLE))('weight %d of %d pods keeps %d stable pods', (weight, total, stable) => {
    expect(stableReplicasFor(weight, total)).toBe(stable);
  });

  test.each(rows(CANARY).filter(([weight, total]) => total > 0 && weight < 100))(
    'weight %d of %d pods: canary + stable is N unless the stable floor of 1 adds a pod',
    (weight, total) => {
      const canary = canaryReplicasFor(weight, total);
      const stable = stableReplicasFor(weight, total);
      expect(canary + stable).toBe(canary === total ? total + 1 : total);
      expect(stable).toBeGreaterThanOrEqual(1);
    },
  );
});

describe('replicaWeight', () => {
  test.each<[number, number, number]>([
    [0, 0, 0],
    [0, 4, 0],
    [1, 0, 100],
    [1, 1, 50],
    [1, 2, 33],
    [2, 1, 67],
    [1, 3, 25],
    [1, 7, 13],
    [1, 9, 10],
    [5, 5, 50],
    [10, 1, 91],
  ])('%d ready canary and %d ready stable pods carry %d%%', (canary, stable, weight) => {
    expect(replicaWeight(canary, stable)).toBe(weight);
  });
});

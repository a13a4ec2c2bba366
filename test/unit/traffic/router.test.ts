import { canaryServiceName, percentOf, stableServiceName } from '../../../src/traffic/router';
import { microservice } from './fixtures';

describe('percentOf', () => {
  test.each<[number, number, number]>([
    [0, 0, 0],
    [0, 5, 0],
    [5, 0, 100],
    [1, 1, 50],
    [20, 80, 20],
    [80, 20, 80],
    [1, 2, 33],
    [2, 1, 67],
    [1, 199, 1],
    [1, 999, 0],
    [3, 997, 0],
    [5, 995, 1],
  ])('canary %d beside stable %d is %d%%', (canary, stable, percent) => {
    expect(percentOf(canary, stable)).toBe(percent);
  });
});

describe('Service names', () => {
  test.each<[string, string, string]>([
    ['orders', 'orders-stable', 'orders-canary'],
    ['a', 'a-stable', 'a-canary'],
  ])('%s: %s and %s', (name, stable, canary) => {
    const ms = microservice({}, name);
    expect(stableServiceName(ms)).toBe(stable);
    expect(canaryServiceName(ms)).toBe(canary);
  });
});

import { Backoff, decorrelatedJitter } from '../../../src/kube/backoff';
import { seededRandom } from '../../seeded-random';

describe('decorrelatedJitter', () => {
  test.each([
    // previous, base, max, draw, delay
    [1000, 1000, 30_000, 0, 1000],
    [1000, 1000, 30_000, 0.5, 2000],
    [1000, 1000, 30_000, 0.999999, 2999],
    [4000, 1000, 30_000, 0.5, 6500],
    [20_000, 1000, 30_000, 0.999999, 29_999],
    [30_000, 1000, 30_000, 0.999999, 29_999],
    [0, 1000, 30_000, 0.7, 1000],
    [1000, 1000, 1000, 0.5, 1000],
  ])('previous %i, base %i, max %i, draw %f gives %i', (previous, base, max, draw, expected) => {
    expect(decorrelatedJitter(previous, base, max, () => draw)).toBe(expected);
  });
});

describe('Backoff with jitter', () => {
  test.each([1, 2, 42, 2026])('seed %i: every delay lies between base and min(max, 3 × the previous)', (seed) => {
    const backoff = new Backoff(1000, 30_000, seededRandom(seed));
    let previous = 1000;
    for (let i = 0; i < 50; i++) {
      const delay = backoff.next();
      expect(delay).toBeGreaterThanOrEqual(1000);
      expect(delay).toBeLessThanOrEqual(Math.min(30_000, previous * 3));
      previous = delay;
    }
  });

  test('the same seed gives the same delays', () => {
    const a = new Backoff(1000, 30_000, seededRandom(7));
    const b = new Backoff(1000, 30_000, seededRandom(7));
    const delays = (x: Backoff) => Array.from({ length: 10 }, () => x.next());
    expect(delays(a)).toEqual(delays(b));
  });

  test('callers that fail together do not retry in lockstep, from the first retry on', () => {
    // Twelve informers drawing from one source, as they do from Math.random in the operator.
    const random = seededRandom(12);
    const informers = Array.from({ length: 12 }, () => new Backoff(1000, 30_000, random));
    for (let round = 0; round < 5; round++) {
      const delays = informers.map((b) => b.next());
      expect(new Set(delays).size).toBeGreaterThanOrEqual(10);
    }
  });

  test('grows towards the cap: after a few failures the delays are mostly well above base', () => {
    const backoff = new Backoff(1000, 30_000, seededRandom(3));
    const delays = Array.from({ length: 40 }, () => backoff.next()).slice(10);
    const median = [...delays].sort((x, y) => x - y)[Math.floor(delays.length / 2)]!;
    expect(median).toBeGreaterThan(5000);
    expect(Math.max(...delays)).toBeLessThanOrEqual(30_000);
  });

  test('reset() starts again from base', () => {
    const backoff = new Backoff(1000, 30_000, seededRandom(5));
    for (let i = 0; i < 10; i++) backoff.next();
    backoff.reset();
    expect(backoff.next()).toBeLessThanOrEqual(3000);
  });
});

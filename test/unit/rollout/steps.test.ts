import type { CanarySettings } from '../../../src/api/types';
import {
  activeMatches,
  checkStepsRouter,
  describeStep,
  parallelRunStarted,
  releaseSteps,
  type Step,
  StepsError,
} from '../../../src/rollout/steps';

const weight = (w: number): Step => ({ kind: 'setWeight', weight: w });
const pause = (durationMs?: number): Step =>
  durationMs === undefined ? { kind: 'pause' } : { kind: 'pause', durationMs };
/** The shorthand expansion: each weight followed by a timed pause. */
const every = (durationMs: number, ...weights: number[]): Step[] =>
  weights.flatMap((w) => [weight(w), pause(durationMs)]);

function errorOf(canary: CanarySettings): Error {
  try {
    releaseSteps(canary);
  } catch (err) {
    return err as Error;
  }
  throw new Error('releaseSteps did not throw');
}

describe('releaseSteps', () => {
  test('maps explicit steps in order', () => {
    expect(
      releaseSteps({
        steps: [{ setWeight: 10 }, { pause: { duration: '2m' } }, { setWeight: 50 }, { pause: {} }, { setWeight: 100 }],
      }),
    ).toEqual([weight(10), pause(120_000), weight(50), pause(), weight(100)]);
  });

  test('an untimed pause has no durationMs at all', () => {
    const [step] = releaseSteps({ steps: [{ pause: {} }] });
    expect(step).toStrictEqual({ kind: 'pause' });
  });

  test.each<[string, CanarySettings | undefined, Step[]]>([
    ['no canary block: 20, 40, 60, 80 with 1m pauses', undefined, every(60_000, 20, 40, 60, 80)],
    ['an empty canary block: the same defaults', {}, every(60_000, 20, 40, 60, 80)],
    [
      'a canary block with traffic only: the same defaults',
      { traffic: { router: 'replicas' } },
      every(60_000, 20, 40, 60, 80),
    ],
    ['stepWeight 10, maxWeight 30', { stepWeight: 10, maxWeight: 30 }, every(60_000, 10, 20, 30)],
    [
      'stepWeight 30, maxWeight 100: the last weight is capped at 100',
      { stepWeight: 30, maxWeight: 100 },
      every(60_000, 30, 60, 90, 100),
    ],
    [
      'stepWeight 15, maxWeight 40: the last weight is capped at 40',
      { stepWeight: 15, maxWeight: 40 },
      every(60_000, 15, 30, 40),
    ],
    ['stepWeight only: up to 100', { stepWeight: 25 }, every(60_000, 25, 50, 75, 100)],
    ['stepWeight 30 only: capped at 100', { stepWeight: 30 }, every(60_000, 30, 60, 90, 100)],
    ['stepWeight 100', { stepWeight: 100 }, every(60_000, 100)],
    ['stepWeight equal to maxWeight', { stepWeight: 50, maxWeight: 50 }, every(60_000, 50)],
    ['stepInterval alone keeps the default weights', { stepInterval: '2m' }, every(120_000, 20, 40, 60, 80)],
    ['stepWeight with stepInterval', { stepWeight: 50, stepInterval: '30s' }, every(30_000, 50, 100)],
    [
      'stepInterval with a combined duration',
      { stepWeight: 40, maxWeight: 80, stepInterval: '1m30s' },
      every(90_000, 40, 80),
    ],
  ])('shorthand, %s', (_name, canary, steps) => {
    expect(releaseSteps(canary)).toEqual(steps);
  });

  test.each<[string, CanarySettings, Step[]]>([
    ['explicit steps win over the defaults', { steps: [{ setWeight: 5 }] }, [weight(5)]],
    ['no steps at all: promote at once', { steps: [] }, []],
    ['equal weights are allowed', { steps: [{ setWeight: 20 }, { setWeight: 20 }] }, [weight(20), weight(20)]],
    [
      'setWeight 0 is allowed',
      { steps: [{ setWeight: 0 }, { pause: {} }, { setWeight: 10 }] },
      [weight(0), pause(), weight(10)],
    ],
  ])('%s', (_name, canary, steps) => {
    expect(releaseSteps(canary)).toEqual(steps);
  });

  test.each<[string, CanarySettings, string]>([
    [
      'a weight that goes down names the step index',
      { steps: [{ setWeight: 50 }, { pause: { duration: '1m' } }, { setWeight: 30 }] },
      'release.canary.steps[2] lowers the weight from 50 to 30; weights must not go down within a release',
    ],
    [
      'a weight below an earlier one, pauses between',
      { steps: [{ setWeight: 10 }, { setWeight: 40 }, { pause: {} }, { pause: {} }, { setWeight: 39 }] },
      'release.canary.steps[4] lowers the weight from 40 to 39; weights must not go down within a release',
    ],
    [
      'a bad pause duration names the path',
      { steps: [{ setWeight: 10 }, { pause: { duration: '5x' } }] },
      'release.canary.steps[1].pause.duration: "5x" is not a duration (unknown unit "x"; use h, m, s or ms); write a number and a unit such as "30s", "1m" or "1m30s"',
    ],
    [
      'a pause duration without a unit',
      { steps: [{ pause: { duration: '30' } }] },
      'release.canary.steps[0].pause.duration: "30" is not a duration (missing unit after "30"); write a number and a unit such as "30s", "1m" or "1m30s"',
    ],
    [
      'a bad stepInterval names the field',
      { stepWeight: 10, stepInterval: 'soon' },
      'release.canary.stepInterval: "soon" is not a duration (unexpected "soon"); write a number and a unit such as "30s", "1m" or "1m30s"',
    ],
  ])('%s', (_name, canary, message) => {
    const err = errorOf(canary);
    expect(err).toBeInstanceOf(StepsError);
    expect(err.name).toBe('StepsError');
    expect(err.message).toBe(message);
  });
});

describe('describeStep', () => {
  test.each<[Step, string]>([
    [weight(10), 'setWeight 10'],
    [weight(0), 'setWeight 0'],
    [pause(120_000), 'pause 2m'],
    [pause(1_500), 'pause 1s500ms'],
    [pause(0), 'pause 0s'],
    [pause(), 'pause until promoted'],
  ])('%j reads %j', (step, text) => {
    expect(describeStep(step)).toBe(text);
  });
});

describe('mirror and match steps', () => {
  const beta = [{ headers: { 'x-beta': { exact: 'true' } } }];
  const cookie = [{ cookie: { name: 'beta', value: '1' } }];

  test('parse with the default percent, and the matches as written', () => {
    expect(
      releaseSteps({
        steps: [{ mirror: { duration: '10m' } }, { mirror: { percent: 20, duration: '30s' } }, { match: beta }],
      }),
    ).toEqual([
      { kind: 'mirror', percent: 100, durationMs: 600_000 },
      { kind: 'mirror', percent: 20, durationMs: 30_000 },
      { kind: 'match', matches: beta },
    ]);
  });

  test('a bad mirror duration names the field', () => {
    expect(() => releaseSteps({ steps: [{ setWeight: 5 }, { mirror: { duration: 'later' } }] })).toThrow(
      'release.canary.steps[1].mirror.duration: "later" is not a duration',
    );
  });

  test('the matches in force at a step are every match step up to it', () => {
    const steps = releaseSteps({
      steps: [{ mirror: { duration: '1m' } }, { match: beta }, { setWeight: 10 }, { match: cookie }],
    });
    expect(activeMatches(steps, 0)).toEqual([]);
    expect(activeMatches(steps, 1)).toEqual(beta);
    expect(activeMatches(steps, 2)).toEqual(beta);
    expect(activeMatches(steps, 3)).toEqual([...beta, ...cookie]);
    expect(parallelRunStarted(steps, 0)).toBe(true);
    expect(parallelRunStarted(releaseSteps({ steps: [{ setWeight: 10 }, { mirror: { duration: '1m' } }] }), 0)).toBe(
      false,
    );
  });

  test.each<[Step, string]>([
    [{ kind: 'mirror', percent: 100, durationMs: 600_000 }, 'mirror 100% for 10m'],
    [{ kind: 'match', matches: [...beta, ...cookie] }, 'match header x-beta=true or cookie beta=1'],
    [
      { kind: 'match', matches: [{ headers: { a: { exact: '1' }, b: { regex: '^x' } } }] },
      'match header a=1 and header b~^x',
    ],
  ])('%j reads %j', (step, text) => {
    expect(describeStep(step)).toBe(text);
  });

  test.each<[string, string, string | undefined]>([
    ['mirror', 'gatewayAPI', undefined],
    ['mirror', 'istio', undefined],
    ['mirror', 'nginx', 'mirror steps need router gatewayAPI or istio'],
    ['mirror', 'replicas', 'mirror steps need router gatewayAPI or istio'],
    ['match', 'nginx', undefined],
    ['match', 'replicas', 'match steps need router gatewayAPI, istio or nginx'],
  ])('a %s step with router %s: %s', (kind, router, message) => {
    const steps = releaseSteps({ steps: [kind === 'mirror' ? { mirror: { duration: '1m' } } : { match: beta }] });
    if (message) expect(() => checkStepsRouter(steps, router)).toThrow(message);
    else expect(() => checkStepsRouter(steps, router)).not.toThrow();
  });
});

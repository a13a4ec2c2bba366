import { age, renderStatus, weightBar } from '../../../src/cli/status-view';
import type { Microservice } from '../../../src/api/types';
import { NOW, atStep2, blueGreenSwitched, manualGate, orders, parallelRun, ready, rolledBack } from './fixtures';

const lines = (ms: Microservice) => renderStatus(ms, NOW).split('\n');

describe('renderStatus', () => {
  // Each case: a Microservice, the lines that must appear (exactly, as whole lines), and lines that must not.
  test.each<[string, Microservice, string[], RegExp[]]>([
    [
      'Ready',
      ready,
      [
        'Name     shop/orders',
        'Image    registry.example.com/shop/orders:1.4.2',
        'Phase    Ready',
        'Stable   2adba111',
        'Canary   -',
        'Strategy Rolling',
        'Replicas stable 3/3 ready',
        'Message  Deployment orders is available with 3/3 ready replicas on revision 2adba111',
        'Conditions',
        '  TYPE   STATUS  REASON     AGE',
        '  Ready  True    Succeeded  60m',
      ],
      [/^Failed/, /^Weight/, /^Steps/, /canary/],
    ],
    [
      'a blue-green release after the switch: both stacks and the stage',
      blueGreenSwitched,
      [
        'Stable   2adba111',
        'Preview  3fd15463',
        'Active   3fd15463',
        'Strategy BlueGreen, router replicas',
        'Replicas stable 4/4 ready, preview 4/4 ready',
        'Stages',
        '      1  preview starts, every pod ready  done',
        '      2  checked, then promoted (kubectl msop promote)  done',
        '      3  switch: all traffic to the preview  done',
        '  >   4  old pods kept warm 60s, checked on live traffic',
        '      5  Deployment moves to the new revision, preview removed',
      ],
      [/^Canary/, /^Weight/, /^Steps/],
    ],
    [
      'a release at step 2/4, weight 25/25',
      atStep2,
      [
        'Phase    Progressing',
        'Stable   2adba111',
        'Canary   3fd15463',
        'Strategy Canary, router replicas',
        'Weight   desired [###-------] 25%',
        '         actual  [###-------] 25%',
        'Replicas stable 3/3 ready, canary 1/1 ready',
        'Message  Step 2/4 (pause 2m): pausing, 1m30s left',
        'Steps (step 2 of 4)',
        '      1  setWeight 25          done',
        '  >   2  pause 2m              now (1m30s left)',
        '      3  setWeight 50',
        '      4  pause until promoted',
        '         promote',
        '  TYPE         STATUS  REASON       AGE',
        '  Ready        False   Progressing  90s',
        '  Reconciling  True    Progressing  90s',
        '  Released     False   Progressing  90s',
      ],
      [/^Failed/, /^Hold/],
    ],
    [
      'a parallel run: the mirror step, its time left, and the answers that differed',
      parallelRun,
      [
        'Strategy Canary, router gatewayAPI',
        'Steps (step 1 of 3)',
        '  >   1  mirror 100% for 10m       now (6m left)',
        '      2  match header x-beta=true',
        'Parallel run: answers that differed (latest)',
        '  GET /orders/7: body $.total: 10 != 11',
        '  GET /orders?page=*: status 200 != 500',
      ],
      [/^Failed/],
    ],
    [
      'a Paused manual gate',
      manualGate,
      [
        'Phase    Paused',
        'Canary   3fd15463',
        'Weight   desired [#####-----] 50%',
        '         actual  [#####-----] 50%',
        'Replicas stable 2/2 ready, canary 2/2 ready',
        'Steps (step 4 of 4)',
        '      3  setWeight 50          done',
        '  >   4  pause until promoted  now (waiting for kubectl msop promote orders)',
        '         promote',
      ],
      [/^Hold/],
    ],
    [
      'RolledBack with a failedRevision',
      rolledBack,
      [
        'Phase    RolledBack',
        'Stable   2adba111',
        'Canary   -',
        'Failed   3fd15463 (rolled back; kubectl msop retry to release it again)',
        'Replicas stable 4/4 ready',
        'Message  Rolled back revision 3fd15463: canary 3fd15463 had 0/1 ready pods after 10m (progress deadline 600s)',
        // The shorthand stepWeight 10, maxWeight 30, stepInterval 30s, and no step marked.
        'Steps (no release in progress)',
        '      1  setWeight 10',
        '      2  pause 30s',
        '      6  pause 30s',
        '  Released  False   ProgressDeadlineExceeded  2m',
      ],
      [/^Weight/, /^ {2}>/, /done/],
    ],
  ])('%s', (_title, ms, present, absent) => {
    const out = lines(ms);
    for (const line of present) expect(out).toContain(line);
    for (const pattern of absent) expect(out.filter((l) => pattern.test(l))).toEqual([]);
  });

  test('the brief example: the canary revision on its own line', () => {
    expect(renderStatus(atStep2, NOW)).toContain('Canary   3fd15463');
  });

  test('no colour codes unless asked for; phase coloured when asked', () => {
    for (const ms of [ready, atStep2, manualGate, rolledBack]) expect(renderStatus(ms, NOW)).not.toContain('\x1b');
    expect(renderStatus(ready, NOW, { color: true })).toContain('Phase    \x1b[32mReady\x1b[0m');
    expect(renderStatus(rolledBack, NOW, { color: true })).toContain('\x1b[31mRolledBack\x1b[0m');
  });

  test('pure: the same input and time give the same text', () => {
    expect(renderStatus(atStep2, NOW)).toBe(renderStatus(atStep2, new Date(NOW.getTime())));
  });

  test.each<[string, Microservice, string[]]>([
    [
      'no status yet',
      orders({ release: { strategy: 'Canary' } }, undefined),
      [
        'Phase    Unknown (no status yet)',
        'Stable   -',
        'Replicas stable 0/4 ready',
        // The default shorthand: stepWeight 20, maxWeight 80, stepInterval 1m.
        'Steps (no release in progress)',
        '      1  setWeight 20',
        '      2  pause 1m',
        '      7  setWeight 80',
        '      8  pause 1m',
        'Conditions (none)',
      ],
    ],
    [
      'spec.release.paused and a status behind the spec',
      orders(
        { release: { strategy: 'Canary', paused: true, canary: { steps: [{ setWeight: 50 }] } } },
        { ...atStep2.status, observedGeneration: 6, currentStep: 0, release: undefined },
      ),
      [
        'Note     status is for generation 6; the spec is at generation 7',
        'Hold     spec.release.paused is true (kubectl msop resume orders)',
        'Steps (step 1 of 1)',
        '  >   1  setWeight 50  now',
      ],
    ],
    [
      'promoting after the last step, router gatewayAPI',
      orders(
        {
          release: {
            strategy: 'Canary',
            canary: { steps: [{ setWeight: 50 }], traffic: { router: 'gatewayAPI', gatewayAPI: { httpRoute: 'r' } } },
          },
        },
        { ...atStep2.status, phase: 'Promoting', currentStep: 1, stepCount: 1, desiredWeight: 50, canaryWeight: 100 },
      ),
      [
        'Phase    Promoting',
        'Strategy Canary, router gatewayAPI',
        'Weight   desired [#####-----] 50%',
        '         actual  [##########] 100%',
        'Steps (all 1 done, promoting)',
        '      1  setWeight 50  done',
        '  >      promote       now (30s)',
      ],
    ],
    [
      'steps msop cannot run',
      orders({ release: { strategy: 'Canary', canary: { steps: [{ setWeight: 50 }, { setWeight: 10 }] } } }, {}),
      [
        'Steps',
        '  cannot be run: release.canary.steps[1] lowers the weight from 50 to 10; weights must not go down within a release',
      ],
    ],
  ])('%s', (_title, ms, present) => {
    const out = lines(ms);
    for (const line of present) expect(out).toContain(line);
  });
});

describe('weightBar', () => {
  test.each<[number, string]>([
    [0, '[----------] 0%'],
    [5, '[#---------] 5%'],
    [25, '[###-------] 25%'],
    [50, '[#####-----] 50%'],
    [100, '[##########] 100%'],
    [120, '[##########] 120%'],
  ])('%i', (weight, expected) => expect(weightBar(weight)).toBe(expected));
});

describe('age', () => {
  test.each<[number, string]>([
    [0, '0s'],
    [119_000, '119s'],
    [120_000, '2m'],
    [179 * 60_000, '179m'],
    [3 * 3_600_000, '3h'],
    [50 * 3_600_000, '2d'],
    [-5_000, '0s'],
    [NaN, '-'],
  ])('%i ms', (ms, expected) => expect(age(ms)).toBe(expected));
});

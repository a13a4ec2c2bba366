import { judge, type Action, type AnalysisCounters, type JudgeSettings } from '../../../src/analysis/judge';
import type { Verdict } from '../../../src/analysis/types';

const SETTINGS: JudgeSettings = { failureLimit: 2, inconclusiveLimit: 3, onInconclusive: 'Pause' };

/** A metric result from "name:Verdict", with a trailing ! for a critical metric. */
const result = (spec: string) => {
  const [name, rest] = spec.split(':') as [string, string];
  const critical = rest.endsWith('!');
  const verdict = rest.replace('!', '') as Verdict;
  return { name, verdict, critical, reason: `${name} ${verdict.toLowerCase()}` };
};

describe('judge', () => {
  test.each<[string, AnalysisCounters, string[], Partial<JudgeSettings>, AnalysisCounters, Action]>([
    [
      'continues when every metric passes',
      { failures: 0, inconclusive: 0 },
      ['a:Pass', 'b:Pass'],
      {},
      { failures: 0, inconclusive: 0 },
      'Continue',
    ],
    [
      'resets the inconclusive count on a full pass',
      { failures: 1, inconclusive: 2 },
      ['a:Pass'],
      {},
      { failures: 1, inconclusive: 0 },
      'Continue',
    ],
    [
      'rolls back at once on a critical failure',
      { failures: 0, inconclusive: 0 },
      ['a:Pass', 'b:Fail!'],
      {},
      { failures: 1, inconclusive: 0 },
      'Rollback',
    ],
    [
      'waits after a first failure',
      { failures: 0, inconclusive: 0 },
      ['a:Fail', 'b:Pass'],
      {},
      { failures: 1, inconclusive: 0 },
      'Wait',
    ],
    [
      'counts a run with two failures once',
      { failures: 0, inconclusive: 0 },
      ['a:Fail', 'b:Fail'],
      {},
      { failures: 1, inconclusive: 0 },
      'Wait',
    ],
    [
      'rolls back when failures reach failureLimit',
      { failures: 1, inconclusive: 0 },
      ['a:Fail'],
      {},
      { failures: 2, inconclusive: 0 },
      'Rollback',
    ],
    [
      'rolls back on the first failure with failureLimit 1',
      { failures: 0, inconclusive: 0 },
      ['a:Fail'],
      { failureLimit: 1 },
      { failures: 1, inconclusive: 0 },
      'Rollback',
    ],
    [
      'keeps failures across passing runs',
      { failures: 1, inconclusive: 0 },
      ['a:Pass'],
      {},
      { failures: 1, inconclusive: 0 },
      'Continue',
    ],
    [
      'waits on no data',
      { failures: 0, inconclusive: 0 },
      ['a:NoData', 'b:Pass'],
      {},
      { failures: 0, inconclusive: 1 },
      'Wait',
    ],
    [
      'never continues on an error',
      { failures: 0, inconclusive: 1 },
      ['a:Error'],
      {},
      { failures: 0, inconclusive: 2 },
      'Wait',
    ],
    [
      'pauses at inconclusiveLimit',
      { failures: 0, inconclusive: 2 },
      ['a:Inconclusive'],
      {},
      { failures: 0, inconclusive: 3 },
      'Pause',
    ],
    [
      'rolls back at inconclusiveLimit when told to',
      { failures: 0, inconclusive: 2 },
      ['a:NoData'],
      { onInconclusive: 'Rollback' },
      { failures: 0, inconclusive: 3 },
      'Rollback',
    ],
    [
      'counts a failure and an inconclusive in the same run',
      { failures: 0, inconclusive: 0 },
      ['a:Fail', 'b:NoData'],
      {},
      { failures: 1, inconclusive: 1 },
      'Wait',
    ],
    [
      'prefers rollback to pause',
      { failures: 1, inconclusive: 2 },
      ['a:Fail', 'b:NoData'],
      {},
      { failures: 2, inconclusive: 3 },
      'Rollback',
    ],
    [
      'pauses before waiting on a failure below its limit',
      { failures: 0, inconclusive: 2 },
      ['a:Fail', 'b:NoData'],
      {},
      { failures: 1, inconclusive: 3 },
      'Pause',
    ],
    [
      'does not continue without any metric',
      { failures: 0, inconclusive: 0 },
      [],
      {},
      { failures: 0, inconclusive: 1 },
      'Wait',
    ],
    [
      'pauses after enough runs without any metric',
      { failures: 0, inconclusive: 2 },
      [],
      {},
      { failures: 0, inconclusive: 3 },
      'Pause',
    ],
  ])('%s', (_name, previous, results, settings, counters, action) => {
    const outcome = judge(previous, results.map(result), { ...SETTINGS, ...settings });
    expect({ failures: outcome.failures, inconclusive: outcome.inconclusive }).toEqual(counters);
    expect(outcome.decision.action).toBe(action);
  });

  test.each<[string, AnalysisCounters, string[], string]>([
    ['a pass', { failures: 0, inconclusive: 0 }, ['a:Pass', 'b:Pass', 'c:Pass'], 'all 3 metrics passed'],
    ['a critical failure', { failures: 0, inconclusive: 0 }, ['a:Pass', 'b:Fail!'], 'critical metric failed: b fail'],
    [
      'the failure limit',
      { failures: 1, inconclusive: 0 },
      ['a:Fail', 'b:Fail'],
      '2 of 2 failed checks: a fail; b fail',
    ],
    ['a first failure', { failures: 0, inconclusive: 0 }, ['a:Fail'], 'failed check 1 of 2 before rollback: a fail'],
    ['no data', { failures: 0, inconclusive: 0 }, ['a:NoData'], 'inconclusive check 1 of 3 before Pause: a nodata'],
    [
      'the inconclusive limit',
      { failures: 0, inconclusive: 2 },
      ['a:Error', 'b:Pass'],
      '3 inconclusive checks in a row, the limit is 3: a error',
    ],
  ])('gives a reason for %s', (_name, previous, results, reason) => {
    expect(judge(previous, results.map(result), SETTINGS).decision.reason).toBe(reason);
  });

  test('lists every verdict in order', () => {
    expect(judge({ failures: 0, inconclusive: 0 }, ['a:Pass', 'b:NoData'].map(result), SETTINGS).verdicts).toEqual([
      { name: 'a', verdict: 'Pass' },
      { name: 'b', verdict: 'NoData' },
    ]);
  });
});

import type { MetricResult, OnInconclusive, Verdict } from './types';

// One analysis run's metric verdicts, plus the counters so far, give the next action. Pure: the
// caller keeps the counters in status and passes them back in.
//
// - A failed critical metric rolls back at once.
// - A run with any failed metric is one failed check; `failures` is cumulative over the release
//   (a canary that fails now and then is not a good canary) and rolls back at failureLimit.
// - Inconclusive, NoData and Error are never a pass: a run with any of them is one inconclusive
//   check, and at inconclusiveLimit the onInconclusive action applies. A run in which every metric
//   passes resets `inconclusive` to 0, like Argo Rollouts' consecutive-error counter: a blip in
//   Prometheus should not pause a healthy release.
// - Only a run in which every metric passes continues. No metrics at all is not a pass.

export type Action = 'Continue' | 'Rollback' | 'Pause' | 'Wait';

export interface AnalysisCounters {
  failures: number;
  inconclusive: number;
}

export interface JudgeSettings {
  failureLimit: number;
  inconclusiveLimit: number;
  onInconclusive: OnInconclusive;
}

export interface Decision {
  action: Action;
  reason: string;
}

export interface Judgement extends AnalysisCounters {
  decision: Decision;
  verdicts: { name: string; verdict: Verdict }[];
}

type JudgedResult = Pick<MetricResult, 'name' | 'verdict' | 'reason' | 'critical'>;

export function judge(
  previous: AnalysisCounters,
  results: readonly JudgedResult[],
  settings: JudgeSettings,
): Judgement {
  const verdicts = results.map(({ name, verdict }) => ({ name, verdict }));
  const failed = results.filter((result) => result.verdict === 'Fail');
  const unsure = results.filter((result) => result.verdict !== 'Pass' && result.verdict !== 'Fail');
  const failures = previous.failures + (failed.length > 0 ? 1 : 0);
  const allPassed = results.length > 0 && failed.length === 0 && unsure.length === 0;
  const inconclusive = allPassed ? 0 : previous.inconclusive + (unsure.length > 0 || results.length === 0 ? 1 : 0);
  const out = (action: Action, reason: string): Judgement => ({
    failures,
    inconclusive,
    decision: { action, reason },
    verdicts,
  });
  const reasons = (list: readonly JudgedResult[]) => list.map((result) => result.reason).join('; ');

  const critical = failed.filter((result) => result.critical);
  if (critical.length > 0) return out('Rollback', `critical metric failed: ${reasons(critical)}`);
  if (failed.length > 0 && failures >= settings.failureLimit)
    return out('Rollback', `${failures} of ${settings.failureLimit} failed checks: ${reasons(failed)}`);
  if (results.length === 0) {
    const reason = `no metric results to judge (${inconclusive} of ${settings.inconclusiveLimit} inconclusive checks)`;
    return out(inconclusive >= settings.inconclusiveLimit ? settings.onInconclusive : 'Wait', reason);
  }
  if (unsure.length > 0 && inconclusive >= settings.inconclusiveLimit)
    return out(
      settings.onInconclusive,
      `${inconclusive} inconclusive checks in a row, the limit is ${settings.inconclusiveLimit}: ${reasons(unsure)}`,
    );
  if (failed.length > 0)
    return out('Wait', `failed check ${failures} of ${settings.failureLimit} before rollback: ${reasons(failed)}`);
  if (unsure.length > 0)
    return out(
      'Wait',
      `inconclusive check ${inconclusive} of ${settings.inconclusiveLimit} before ${settings.onInconclusive}: ${reasons(unsure)}`,
    );
  return out('Continue', `all ${results.length} metrics passed`);
}

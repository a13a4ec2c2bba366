import { formatDuration, parseDuration } from '../../../src/analysis/duration';
import { AnalysisConfigError } from '../../../src/analysis/errors';

describe('parseDuration', () => {
  test.each<[string, number]>([
    ['0', 0],
    ['0s', 0],
    ['10s', 10_000],
    ['30s', 30_000],
    ['1m', 60_000],
    ['1m30s', 90_000],
    ['1.5h', 5_400_000],
    ['2h45m', 9_900_000],
    ['250ms', 250],
    ['.5s', 500],
    [' 5m ', 300_000],
    ['1500us', 1.5],
  ])('reads %j as %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  test.each<[string, string]>([
    ['', 'interval: "" is not a duration (empty); write a number and a unit such as "30s", "1m" or "1m30s"'],
    ['60', 'interval: "60" is not a duration (missing unit after "60")'],
    ['1m30', 'interval: "1m30" is not a duration (missing unit after "30")'],
    ['1d', 'interval: "1d" is not a duration (unknown unit "d"; use h, m, s or ms)'],
    ['-5s', 'interval: "-5s" is not a duration (negative)'],
    ['five minutes', 'interval: "five minutes" is not a duration (unexpected "five minutes")'],
    ['5 m', 'interval: "5 m" is not a duration (missing unit after "5 m")'],
  ])('refuses %j', (text, message) => {
    expect(() => parseDuration(text, 'interval')).toThrow(AnalysisConfigError);
    expect(() => parseDuration(text, 'interval')).toThrow(message);
  });
});

describe('formatDuration', () => {
  test.each<[number, string]>([
    [0, '0s'],
    [1000, '1s'],
    [60_000, '1m'],
    [90_000, '1m30s'],
    [3_723_000, '1h2m3s'],
    [1500, '1s500ms'],
  ])('writes %d ms as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
    expect(parseDuration(text)).toBe(ms);
  });
});

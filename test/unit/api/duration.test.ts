import { DurationError, formatDuration, parseDuration } from '../../../src/api/duration';

describe('parseDuration', () => {
  test.each<[string, number]>([
    ['250ms', 250],
    ['0s', 0],
    ['1s', 1_000],
    ['90s', 90_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['1h30m', 5_400_000],
    ['1m30s', 90_000],
    ['2h45m10s', 9_910_000],
    ['1s500ms', 1_500],
    ['1.5s', 1_500],
    ['0.5h', 1_800_000],
    ['2.25m', 135_000],
    ['1.5ms', 1.5],
    ['0', 0],
    [' 30s ', 30_000],
  ])('%j is %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  test.each<[string, string]>([
    ['', 'empty'],
    ['   ', 'empty'],
    ['5', 'missing unit after "5"'],
    ['5x', 'unknown unit "x"; use h, m, s or ms'],
    ['m5', 'unexpected "m5"'],
    ['s', 'unexpected "s"'],
    ['1h 30m', 'unexpected " 30m"'],
    ['-5s', 'negative'],
    ['5s-', 'unexpected "-"'],
    ['1d', 'unknown unit "d"; use h, m, s or ms'],
  ])('%j is refused with a DurationError that says why (%s)', (text, why) => {
    let thrown: unknown;
    try {
      parseDuration(text);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(DurationError);
    expect((thrown as Error).name).toBe('DurationError');
    expect((thrown as Error).message).toBe(
      `"${text}" is not a duration (${why}); write a number and a unit such as "30s", "1m" or "1m30s"`,
    );
  });
});

describe('formatDuration', () => {
  test.each<[number, string]>([
    [0, '0s'],
    [1, '1ms'],
    [250, '250ms'],
    [999, '999ms'],
    [1_000, '1s'],
    [1_400, '1s400ms'],
    [1_500, '1s500ms'],
    [59_000, '59s'],
    [60_000, '1m'],
    [90_000, '1m30s'],
    [3_600_000, '1h'],
    [3_601_000, '1h1s'],
    [3_660_000, '1h1m'],
    [5_400_000, '1h30m'],
    [9_910_000, '2h45m10s'],
    [86_400_000, '24h'],
  ])('%d ms is %j', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  test.each([0, 1_000, 59_000, 90_000, 3_600_000, 5_400_000, 9_910_000])(
    '%d ms round-trips through parseDuration',
    (ms) => {
      expect(parseDuration(formatDuration(ms))).toBe(ms);
    },
  );
});

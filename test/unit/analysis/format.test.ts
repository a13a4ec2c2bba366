import { formatNumber, formatPercent, round } from '../../../src/analysis/format';

describe('formatNumber', () => {
  test.each<[number, string]>([
    [97.09999, '97.1'],
    [99, '99'],
    [0.0045231, '0.004523'],
    [432.71, '432.7'],
    [12345.6, '12346'],
    [360666.65, '360667'],
    [3.6e9, '3.6e+9'],
    [-2.5, '-2.5'],
    [Infinity, '∞'],
    [-Infinity, '-∞'],
    [NaN, 'NaN'],
  ])('writes %d as %s', (value, text) => {
    expect(formatNumber(value)).toBe(text);
  });

  test('writes a rate as a percentage', () => {
    expect(formatPercent(0.0102)).toBe('1.02%');
  });

  test.each<[number, number]>([
    [2.0816326530612246, 2.08163],
    [Infinity, Infinity],
  ])('rounds %d to %d', (value, rounded) => {
    expect(round(value)).toBe(rounded);
  });
});

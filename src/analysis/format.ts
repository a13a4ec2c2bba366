// Numbers in reasons and status: four significant digits reads well and survives JSON.

/** 97.0999 → "97.1", 0.0045231 → "0.004523", 12345.6 → "12346", 3.6e9 → "3.6e+9", Infinity → "∞". */
export function formatNumber(value: number): string {
  if (value === Infinity) return '∞';
  if (value === -Infinity) return '-∞';
  if (Number.isNaN(value)) return 'NaN';
  if (Math.abs(value) >= 1e7) return value.toExponential(3).replace(/\.?0+e/, 'e');
  if (Math.abs(value) >= 1000) return String(Math.round(value));
  return String(Number(value.toPrecision(4)));
}

/** A rate as a percentage: 0.0102 → "1.02%". */
export function formatPercent(rate: number): string {
  return `${formatNumber(rate * 100)}%`;
}

/** Rounds for status, keeping ±Infinity (which JSON writes as null). */
export function round(value: number, digits = 6): number {
  return Number.isFinite(value) ? Number(value.toPrecision(digits)) : value;
}

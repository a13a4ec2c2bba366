// Resource quantities in the canonical form the API server stores (k8s.io/apimachinery resource.Quantity):
// "0.5" comes back as "500m" and "1024Mi" as "1Gi". Rendering the canonical form keeps the hash of what msop
// applies equal to what it reads back, so an unchanged spec makes zero writes whatever the spelling.

const DECIMAL_SUFFIXES: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BINARY_SUFFIXES: Record<string, number> = { Ki: 1, Mi: 2, Gi: 3, Ti: 4, Pi: 5, Ei: 6 };
const DECIMAL_BY_EXPONENT = new Map(Object.entries(DECIMAL_SUFFIXES).map(([suffix, exp]) => [exp, suffix]));
const BINARY_BY_POWER = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];
const QUANTITY = /^([+-]?)([0-9]*)(?:\.([0-9]*))?(.*)$/;
/** Binary quantities are capped at the largest int64, as the API server does. */
const MAX_INT64 = 2n ** 63n - 1n;
const NANO_SCALE = 9;

export class QuantityError extends Error {
  override name = 'QuantityError';
}

type Format = 'DecimalSI' | 'BinarySI' | 'DecimalExponent';

/** An exact value: unscaled / 10^scale, with the suffix family it was written in. */
interface Amount {
  unscaled: bigint;
  scale: number;
  format: Format;
}

/** The API server's canonical spelling of a quantity: "1.5" → "1500m", "1.5Gi" → "1536Mi", "1000m" → "1". */
export function canonicalQuantity(text: string | number): string {
  return format(parse(String(text)));
}

/** Negative, zero or positive as quantity `a` is below, equal to or above `b`, in any spellings. */
export function compareQuantities(a: string | number, b: string | number): number {
  const [left, right] = [parse(String(a)), parse(String(b))];
  const scale = Math.max(left.scale, right.scale);
  const diff = left.unscaled * 10n ** BigInt(scale - left.scale) - right.unscaled * 10n ** BigInt(scale - right.scale);
  return diff < 0n ? -1 : diff > 0n ? 1 : 0;
}

function parse(text: string): Amount {
  const match = QUANTITY.exec(text);
  const [, sign, whole = '', fraction = '', suffix = ''] = match ?? [];
  if (!match || (whole === '' && fraction === '')) throw new QuantityError(`"${text}" is not a quantity`);
  let unscaled = BigInt(`${whole}${fraction}` || '0') * (sign === '-' ? -1n : 1n);
  let scale = fraction.length;
  let amountFormat: Format;
  if (suffix in DECIMAL_SUFFIXES) {
    amountFormat = 'DecimalSI';
    scale -= DECIMAL_SUFFIXES[suffix]!;
  } else if (suffix in BINARY_SUFFIXES) {
    amountFormat = 'BinarySI';
    unscaled *= 1024n ** BigInt(BINARY_SUFFIXES[suffix]!);
  } else if (/^[eE][+-]?[0-9]+$/.test(suffix)) {
    amountFormat = 'DecimalExponent';
    scale -= Number(suffix.slice(1));
  } else {
    throw new QuantityError(`"${text}" has an unknown suffix "${suffix}"`);
  }
  // Finer than a nano rounds away from zero, so asking for some of a resource never gives none.
  if (scale > NANO_SCALE) {
    const divisor = 10n ** BigInt(scale - NANO_SCALE);
    const magnitude = abs(unscaled);
    const rounded = magnitude / divisor + (magnitude % divisor === 0n ? 0n : 1n);
    unscaled = unscaled < 0n ? -rounded : rounded;
    scale = NANO_SCALE;
  }
  if (amountFormat === 'BinarySI') {
    if (compare({ unscaled: abs(unscaled), scale }, MAX_INT64) > 0) {
      unscaled = unscaled < 0n ? -MAX_INT64 : MAX_INT64;
      scale = 0;
    }
    // Below 1 a binary suffix means nothing; the value is kept as decimal.
    if (unscaled > 0n && compare({ unscaled, scale }, 1n) < 0) amountFormat = 'DecimalSI';
  }
  return { unscaled, scale, format: amountFormat };
}

function format({ unscaled, scale, format: amountFormat }: Amount): string {
  if (unscaled === 0n) return '0';
  if (amountFormat === 'BinarySI') {
    const whole = integerOf({ unscaled, scale });
    // Small or fractional binary values are written as decimals, so nothing is rounded.
    if (whole !== undefined && abs(whole) >= 1024n) {
      let mantissa = whole;
      let power = 0;
      while (mantissa % 1024n === 0n && power < BINARY_BY_POWER.length - 1) {
        mantissa /= 1024n;
        power++;
      }
      return `${mantissa}${BINARY_BY_POWER[power]}`;
    }
    amountFormat = 'DecimalSI';
  }
  // The largest exponent that loses nothing, lowered to a multiple of 3.
  let mantissa = unscaled;
  let exponent = -scale;
  while (mantissa % 10n === 0n) {
    mantissa /= 10n;
    exponent++;
  }
  const step = ((exponent % 3) + 3) % 3;
  mantissa *= 10n ** BigInt(step);
  exponent -= step;
  if (amountFormat === 'DecimalSI' && DECIMAL_BY_EXPONENT.has(exponent))
    return `${mantissa}${DECIMAL_BY_EXPONENT.get(exponent)}`;
  return exponent === 0 ? `${mantissa}` : `${mantissa}e${exponent}`;
}

const abs = (value: bigint): bigint => (value < 0n ? -value : value);

/** The amount as an integer, when it is one. */
function integerOf({ unscaled, scale }: { unscaled: bigint; scale: number }): bigint | undefined {
  if (scale <= 0) return unscaled * 10n ** BigInt(-scale);
  const divisor = 10n ** BigInt(scale);
  return unscaled % divisor === 0n ? unscaled / divisor : undefined;
}

function compare({ unscaled, scale }: { unscaled: bigint; scale: number }, integer: bigint): number {
  const left = scale >= 0 ? unscaled : unscaled * 10n ** BigInt(-scale);
  const right = scale >= 0 ? integer * 10n ** BigInt(scale) : integer;
  return left < right ? -1 : left > right ? 1 : 0;
}

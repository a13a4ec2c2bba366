// What makes two answers to the same request differ: the status, the headers that are not ignored,
// and the body (JSON structurally, anything else byte for byte). Pure: answers in, a short list
// of human-readable differences out, the first side always the trusted one.
import { type Answer, isOversized, type OversizedBody, sha256 } from './answer';
import { decodeBody } from './decode';
import { formatLocation, type Location, type PathSegment, pathMatches } from './json-path';
import { isSecretHeader, isSecretKey, REDACTED, redactJson, truncate } from './redact';

/**
 * Response headers never compared: hop-by-hop ones, and those that describe one response rather
 * than the answer (the date, the proxy's timing) or that the body comparison already covers
 * (content-length, content-encoding: bodies are compared decoded).
 */
export const ALWAYS_IGNORED_HEADERS: readonly string[] = [
  'age',
  'connection',
  'content-encoding',
  'content-length',
  'date',
  'keep-alive',
  'proxy-authenticate',
  'proxy-connection',
  'server-timing',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'x-envoy-upstream-service-time',
];

export interface CompareOptions {
  /** Lower-case header names the user ignores, on top of ALWAYS_IGNORED_HEADERS. */
  ignoreHeaders: readonly string[];
  ignoreJsonPaths: readonly (readonly PathSegment[])[];
  maxBodyBytes: number;
}

/** At most this many differences are listed for one request; the rest are counted. */
export const MAX_DIFFERENCES = 10;
const VALUE_CHARS = 60;
const DIFFERENCE_CHARS = 200;

export function compareAnswers(trusted: Answer, other: Answer, options: CompareOptions): string[] {
  const out: string[] = [];
  if (trusted.status !== other.status) out.push(`status ${trusted.status} != ${other.status}`);
  out.push(...compareHeaders(trusted.headers, other.headers, options.ignoreHeaders));
  out.push(...compareBodies(trusted, other, options));
  const listed = out.slice(0, MAX_DIFFERENCES).map((d) => truncate(d, DIFFERENCE_CHARS));
  if (out.length > MAX_DIFFERENCES) listed.push(`and ${out.length - MAX_DIFFERENCES} more`);
  return listed;
}

type Headers = Answer['headers'];

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

function compareHeaders(a: Headers, b: Headers, userIgnored: readonly string[]): string[] {
  const ignored = new Set([...ALWAYS_IGNORED_HEADERS, ...userIgnored]);
  const names = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((n) => !ignored.has(n)).sort();
  const out: string[] = [];
  for (const name of names) {
    const left = headerValue(a[name]);
    const right = headerValue(b[name]);
    if (left === right) continue;
    if (isSecretHeader(name)) out.push(`header ${name}: differs (values ${REDACTED})`);
    else out.push(`header ${name}: ${showHeader(left)} != ${showHeader(right)}`);
  }
  return out;
}

function showHeader(value: string | undefined): string {
  return value === undefined ? '(absent)' : truncate(JSON.stringify(value), VALUE_CHARS);
}

function mediaType(headers: Headers): string {
  return (headerValue(headers['content-type']) ?? '').split(';')[0]!.trim().toLowerCase();
}

export function isJsonType(headers: Headers): boolean {
  const type = mediaType(headers);
  return type === 'application/json' || type.endsWith('+json');
}

function isTextType(headers: Headers): boolean {
  const type = mediaType(headers);
  return (
    type.startsWith('text/') ||
    isJsonType(headers) ||
    type.endsWith('+xml') ||
    ['application/xml', 'application/javascript', 'application/x-www-form-urlencoded'].includes(type)
  );
}

type Body = { bytes: Buffer } | { oversized: OversizedBody; note: string } | { error: string };

/** The body to compare: decoded, or only its length and hash when it is (or decodes to) more than the cap. */
function bodyOf(answer: Answer, maxBytes: number): Body {
  if (isOversized(answer.body)) return { oversized: answer.body, note: `over ${maxBytes} bytes` };
  const decoded = decodeBody(answer.body, answer.headers['content-encoding'], maxBytes);
  if ('bytes' in decoded) return decoded;
  if ('overCap' in decoded)
    return {
      oversized: { length: answer.body.length, sha256: sha256(answer.body) },
      note: `decodes to over ${maxBytes} bytes; compared as received`,
    };
  return decoded;
}

function showOversized(body: Body): string {
  if ('oversized' in body) return `${body.oversized.length} bytes sha256 ${body.oversized.sha256.slice(0, 12)}`;
  if ('bytes' in body) return `${body.bytes.length} bytes`;
  return body.error;
}

function compareBodies(trusted: Answer, other: Answer, options: CompareOptions): string[] {
  const a = bodyOf(trusted, options.maxBodyBytes);
  const b = bodyOf(other, options.maxBodyBytes);
  if ('error' in a || 'error' in b) {
    if ('error' in a && 'error' in b && a.error === b.error) return [];
    return [`body: ${showOversized(a)} != ${showOversized(b)}`];
  }
  if ('oversized' in a || 'oversized' in b) {
    const same =
      'oversized' in a &&
      'oversized' in b &&
      a.oversized.length === b.oversized.length &&
      a.oversized.sha256 === b.oversized.sha256;
    if (same) return [];
    const note = 'oversized' in a ? a.note : (b as { note: string }).note;
    return [`body (${note}, compared by length and sha256): ${showOversized(a)} != ${showOversized(b)}`];
  }
  if (isJsonType(trusted.headers) && isJsonType(other.headers)) {
    const left = parseJson(a.bytes);
    const right = parseJson(b.bytes);
    if (left.ok && right.ok) {
      const out: string[] = [];
      diffJson(left.value, right.value, [], options.ignoreJsonPaths, out);
      return out;
    }
    if (!a.bytes.equals(b.bytes))
      return [`body: ${left.ok ? 'JSON' : 'not valid JSON'} != ${right.ok ? 'JSON' : 'not valid JSON'}`];
    return [];
  }
  return compareBytes(a.bytes, b.bytes, isTextType(trusted.headers) && isTextType(other.headers));
}

function parseJson(bytes: Buffer): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(bytes.toString('utf8')) as unknown };
  } catch {
    return { ok: false };
  }
}

function compareBytes(a: Buffer, b: Buffer, text: boolean): string[] {
  if (a.equals(b)) return [];
  let at = 0;
  while (at < a.length && at < b.length && a[at] === b[at]) at++;
  const where = `${a.length} bytes != ${b.length} bytes, first difference at byte ${at}`;
  if (!text) return [`body: ${where}`];
  // A little context around the first difference, never more of the body.
  const from = Math.max(0, at - 10);
  const snippet = (bytes: Buffer) => JSON.stringify(bytes.subarray(from, from + 30).toString('utf8'));
  return [`body: ${where}: ${snippet(a)} != ${snippet(b)}`];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function diffJson(
  a: unknown,
  b: unknown,
  location: (string | number)[],
  ignored: readonly (readonly PathSegment[])[],
  out: string[],
): void {
  // One past the limit is enough to say "and more"; a huge diff is not walked to the end.
  if (out.length > MAX_DIFFERENCES) return;
  if (location.length > 0 && ignored.some((path) => pathMatches(path, location))) return;
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) out.push(`body ${formatLocation(location)}: ${a.length} items != ${b.length} items`);
    for (let i = 0; i < Math.min(a.length, b.length); i++) diffJson(a[i], b[i], [...location, i], ignored, out);
    return;
  }
  if (isObject(a) && isObject(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    for (const key of keys) {
      const here = [...location, key];
      // Own keys only: a body's "constructor" is not Object.prototype's.
      const left = Object.hasOwn(a, key) ? a[key] : undefined;
      const right = Object.hasOwn(b, key) ? b[key] : undefined;
      if (left === undefined || right === undefined) {
        if (!ignored.some((path) => pathMatches(path, here)))
          out.push(`body ${formatLocation(here)}: ${showJson(left, here)} != ${showJson(right, here)}`);
        continue;
      }
      diffJson(left, right, here, ignored, out);
    }
    return;
  }
  // Numbers compare by value: JSON.parse already made 1.0 and 1e0 the same number.
  if (a !== b) out.push(`body ${formatLocation(location)}: ${showJson(a, location)} != ${showJson(b, location)}`);
}

function showJson(value: unknown, location: Location): string {
  if (value === undefined) return '(absent)';
  if (location.some((step) => typeof step === 'string' && isSecretKey(step))) return REDACTED;
  return truncate(JSON.stringify(redactJson(value)), VALUE_CHARS);
}

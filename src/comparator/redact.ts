// What a kept example may show. Examples end up in /differences, in Prometheus labels and in the
// Microservice's status, so anything that may be a credential is replaced before it is stored.

export const REDACTED = '(redacted)';

const SECRET_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie']);
const SECRET_WORDS = /token|secret|key|passw|session|credential|authorization|cookie/i;

/** Authorization, cookies, and any header whose name mentions a token, secret, key, password or session. */
export function isSecretHeader(name: string): boolean {
  return SECRET_HEADERS.has(name.toLowerCase()) || SECRET_WORDS.test(name);
}

/** password, token, secret, apiKey, sessionId, credentials...: a JSON key whose value is not shown. */
export function isSecretKey(key: string): boolean {
  return SECRET_WORDS.test(key);
}

/** The path with every query value replaced: `/orders?id=*&page=*`. Names stay; they help a person. */
export function redactPath(url: string): string {
  const at = url.indexOf('?');
  if (at < 0) return url;
  const query = url
    .slice(at + 1)
    .split('&')
    .filter((pair) => pair !== '')
    .map((pair) => {
      const eq = pair.indexOf('=');
      return eq < 0 ? pair : `${pair.slice(0, eq)}=*`;
    });
  return `${url.slice(0, at)}?${query.join('&')}`;
}

/** A copy of a JSON value with the values under secret-looking keys replaced, at any depth. */
export function redactJson(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactJson);
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value).map(([key, inner]) => [key, isSecretKey(key) ? REDACTED : redactJson(inner)]),
    );
  return value;
}

/** Cuts a text to at most `max` characters, marking the cut. */
export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

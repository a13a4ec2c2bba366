// How a Gateway API implementation picks the rule of an HTTPRoute for a request, pure, as the
// HTTPRoute spec defines it (the description of `rules[].matches`), for the traffic driver:
// among the matches that match the request, the one with an Exact path, then the longest
// PathPrefix, then a method, then the most header matches, then the most query parameter matches
// wins; a tie goes to the first rule in list order. And the RequestMirror filters of that rule.
//
// Written from the spec, not from msop's code, so the driver routes what msop wrote the way a
// gateway would, and a wrong rule on the route shows in the counts.

export interface HTTPHeaderMatch {
  type?: string;
  name: string;
  value: string;
}

export interface HTTPRouteMatch {
  path?: { type?: string; value?: string };
  headers?: HTTPHeaderMatch[];
  queryParams?: HTTPHeaderMatch[];
  method?: string;
}

export interface HTTPBackendRef {
  name?: string;
  kind?: string;
  group?: string;
  port?: number;
  weight?: number;
}

export interface HTTPRouteFilter {
  type: string;
  requestMirror?: {
    backendRef: HTTPBackendRef;
    percent?: number;
    fraction?: { numerator: number; denominator?: number };
  };
}

export interface HTTPRouteRule {
  name?: string;
  matches?: HTTPRouteMatch[];
  filters?: HTTPRouteFilter[];
  backendRefs?: HTTPBackendRef[];
}

export interface HTTPRouteRequest {
  method: string;
  /** The path, with the query string if any: `/orders?id=1`. */
  path: string;
  /** Header names in any case. */
  headers: Record<string, string>;
}

export interface SelectedRule {
  rule: HTTPRouteRule;
  index: number;
}

/** The spec's default match: a PathPrefix of "/", which matches every request. */
const DEFAULT_MATCH: HTTPRouteMatch = { path: { type: 'PathPrefix', value: '/' } };

/** PathPrefix matches element by element: "/foo" matches "/foo", "/foo/" and "/foo/bar", not "/foobar". */
function prefixMatches(prefix: string, path: string): boolean {
  const trimmed = prefix.replace(/\/+$/, '');
  if (trimmed === '') return true;
  return path === trimmed || path.startsWith(`${trimmed}/`);
}

/** Exact or RegularExpression; a regular expression must match the whole value (as Envoy's safe_regex does). */
function valueMatches(match: HTTPHeaderMatch, value: string | undefined): boolean {
  if (value === undefined) return false;
  const type = match.type ?? 'Exact';
  if (type === 'Exact') return value === match.value;
  if (type === 'RegularExpression') return new RegExp(`^(?:${match.value})$`).test(value);
  throw new Error(`header or query match type ${type} is not modelled by the traffic driver`);
}

/** Whether one HTTPRouteMatch (all its conditions ANDed) matches the request. */
export function matches(match: HTTPRouteMatch, request: HTTPRouteRequest): boolean {
  const [path, query = ''] = request.path.split('?', 2) as [string, string?];
  const pathType = match.path?.type ?? 'PathPrefix';
  const pathValue = match.path?.value ?? '/';
  if (pathType === 'Exact' && path !== pathValue) return false;
  if (pathType === 'PathPrefix' && !prefixMatches(pathValue, path)) return false;
  if (pathType !== 'Exact' && pathType !== 'PathPrefix')
    throw new Error(`path match type ${pathType} is not modelled by the traffic driver`);
  if (match.method !== undefined && match.method !== request.method) return false;
  const headers = Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k.toLowerCase(), v]));
  // Header names are case-insensitive; of two entries with the same name only the first counts.
  const seen = new Set<string>();
  for (const header of match.headers ?? []) {
    const name = header.name.toLowerCase();
    if (seen.has(name)) continue;
    seen.add(name);
    if (!valueMatches(header, headers[name])) return false;
  }
  const params = new URLSearchParams(query);
  for (const param of match.queryParams ?? []) {
    if (!valueMatches(param, params.get(param.name) ?? undefined)) return false;
  }
  return true;
}

/** The precedence of a match, compared element by element, larger first. */
function precedence(match: HTTPRouteMatch): number[] {
  const type = match.path?.type ?? 'PathPrefix';
  return [
    type === 'Exact' ? 1 : 0,
    type === 'PathPrefix' ? (match.path?.value ?? '/').length : 0,
    match.method !== undefined ? 1 : 0,
    new Set((match.headers ?? []).map((h) => h.name.toLowerCase())).size,
    (match.queryParams ?? []).length,
  ];
}

const compare = (a: number[], b: number[]) => {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
};

/** The rule a gateway applies to the request, or undefined (the gateway answers 404). */
export function selectRule(rules: HTTPRouteRule[], request: HTTPRouteRequest): SelectedRule | undefined {
  let best: { selected: SelectedRule; rank: number[] } | undefined;
  rules.forEach((rule, index) => {
    for (const match of rule.matches?.length ? rule.matches : [DEFAULT_MATCH]) {
      if (!matches(match, request)) continue;
      const rank = precedence(match);
      // Strictly greater only: on a tie the earlier rule keeps precedence.
      if (!best || compare(rank, best.rank) > 0) best = { selected: { rule, index }, rank };
    }
  });
  return best?.selected;
}

export interface Mirror {
  /** The Service the copy goes to (kind Service, core group). */
  service: string;
  port?: number;
  /** The share of the rule's requests copied, from 0 to 1. */
  share: number;
}

/** The RequestMirror filters of a rule: percent, or fraction, or (neither) every request. */
export function mirrorsOf(rule: HTTPRouteRule): Mirror[] {
  return (rule.filters ?? [])
    .filter((f) => f.type === 'RequestMirror' && f.requestMirror)
    .map((f) => {
      const { backendRef, percent, fraction } = f.requestMirror!;
      if ((backendRef.kind ?? 'Service') !== 'Service' || (backendRef.group ?? '') !== '')
        throw new Error(`a RequestMirror to a ${backendRef.kind} is not modelled by the traffic driver`);
      const share =
        percent !== undefined
          ? percent / 100
          : fraction !== undefined
            ? fraction.numerator / (fraction.denominator ?? 100)
            : 1;
      return { service: backendRef.name ?? '', port: backendRef.port, share };
    });
}

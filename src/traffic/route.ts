// What a weighted route carries besides the weights, pure: the requests that go
// to the canary whatever the weight (match steps), and the mirror of a parallel
// run. Routers add these as rules of their own, named so they can be found again
// and removed: `msop-<microservice>-<part>-<hash>-<i>`, where the hash is of what
// the part asks for, so a route that still shows the rules of an earlier spec is
// seen to differ.
import { createHash } from 'node:crypto';
import type { RequestMatch } from '../api/types';
import type { JsonPatchOperation } from '../kube/client';
import {
  type BackendList,
  type BackendShape,
  canaryRemovalPatch,
  readCanaryPercent,
  type Targets,
  weightPatch,
} from './backend-weights';
import { stableStringify } from '../render/hash';

export interface MirrorTarget {
  /** Percent of the matching requests copied to the target. */
  percent: number;
  /** Only requests with these methods are copied. */
  methods: string[];
  /** The comparator's Service and port. */
  service: string;
  port: number;
}

/** The route a plan asks for: the canary's weight, plus the extras of the current step. */
export interface RouteSpec {
  weight: number;
  matches: RequestMatch[];
  mirror?: MirrorTarget;
}

/** The route as the router reads it back: the canary's weight, and the key of msop's own rules on it. */
export interface ObservedRoute {
  weight: number;
  extras: string;
}

export type RulePart = 'match' | 'mirror';

const hashOf = (value: unknown) => createHash('sha256').update(stableStringify(value)).digest('hex').slice(0, 8);

/** The parts a route spec adds, with the hash each one's rules are named with. */
export function extraParts(route: Pick<RouteSpec, 'matches' | 'mirror'>): { part: RulePart; hash: string }[] {
  const parts: { part: RulePart; hash: string }[] = [];
  if (route.matches.length > 0) parts.push({ part: 'match', hash: hashOf(route.matches) });
  if (route.mirror) parts.push({ part: 'mirror', hash: hashOf(route.mirror) });
  return parts;
}

/** "match-1a2b3c4d,mirror-5e6f7a8b", or "" for a route with weights only: what the rule names show. */
export function extrasKey(route: Pick<RouteSpec, 'matches' | 'mirror'>): string {
  return extraParts(route)
    .map(({ part, hash }) => `${part}-${hash}`)
    .join(',');
}

const rulePrefix = (microservice: string) => `msop-${microservice}-`;

export const ruleName = (microservice: string, part: RulePart, hash: string, index: number): string =>
  `${rulePrefix(microservice)}${part}-${hash}-${index}`;

/** Whether a rule (an HTTPRoute rule, a VirtualService route) is one msop added for this Microservice. */
export const isManagedRule = (microservice: string, name: string | undefined): boolean =>
  name !== undefined && name.startsWith(rulePrefix(microservice));

/** The extras key of the managed rules among these names, in the order extrasKey gives. */
export function extrasKeyOf(microservice: string, names: (string | undefined)[]): string {
  const found = new Set<string>();
  for (const name of names) {
    if (!isManagedRule(microservice, name)) continue;
    const match = /^(match|mirror)-([0-9a-f]{8})-\d+$/.exec(name!.slice(rulePrefix(microservice).length));
    if (match) found.add(`${match[1]}-${match[2]}`);
  }
  const order = (key: string) => (key.startsWith('match-') ? 0 : 1);
  return [...found].sort((a, b) => order(a) - order(b) || a.localeCompare(b)).join(',');
}

/** A regular expression for the Cookie header that holds `name=value` (routers match cookies as a header). */
export function cookieRegex(name: string, value: string): string {
  const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return `(^|.*;\\s*)${escape(name)}=${escape(value)}(;.*|$)`;
}

/**
 * The patch that replaces msop's managed rules at the front of a rule list (`/spec/rules`,
 * `/spec/http`) and sets the weights: remove the old managed rules (each guarded by a test of
 * its name), then the weight operations (computed on the list without them), then add the
 * new managed rules ahead of the user's.
 */
export function managedRulesPatch(
  listPath: string,
  current: { name?: string }[],
  isManaged: (rule: { name?: string }) => boolean,
  weightOperations: JsonPatchOperation[],
  desired: unknown[],
): JsonPatchOperation[] {
  const removals = current
    .map((rule, index) => ({ rule, index }))
    .filter(({ rule }) => isManaged(rule))
    .reverse()
    .flatMap(({ rule, index }): JsonPatchOperation[] => [
      { op: 'test', path: `${listPath}/${index}/name`, value: rule.name },
      { op: 'remove', path: `${listPath}/${index}` },
    ]);
  const additions = desired.map((rule, index): JsonPatchOperation => ({
    op: 'add',
    path: `${listPath}/${index}`,
    value: rule,
  }));
  return [...removals, ...weightOperations, ...additions];
}

export interface RouteObject {
  /** `/spec/rules` or `/spec/http`. */
  listPath: string;
  /** Every rule of the list, msop's and the user's. */
  rules: { name?: string }[];
  /** The Microservice whose rules are msop's. */
  microservice: string;
  /** The user's backend lists, with their paths once msop's rules are removed. */
  lists: BackendList[];
  shape: BackendShape;
  targets: Targets;
}

/**
 * The patch that gives a user's route `weight` and msop's `wanted` rules, or, with no weight, the clean-up
 * patch that takes out msop's rules and canary backends. Undefined when the route already is so: no write.
 */
export function routeUpdate(route: RouteObject, wanted: unknown[], weight?: number): JsonPatchOperation[] | undefined {
  const isManaged = (rule: { name?: string }) => isManagedRule(route.microservice, rule.name);
  const current = route.rules.filter(isManaged);
  const percent = readCanaryPercent(route.lists, route.shape, route.targets);
  if (weight === undefined) {
    const operations = managedRulesPatch(
      route.listPath,
      route.rules,
      isManaged,
      canaryRemovalPatch(route.lists, route.shape, route.targets),
      [],
    );
    const left = operations.some((op) => op.op === 'remove') || (percent !== undefined && percent !== 0);
    return left ? operations : undefined;
  }
  if (stableStringify(current) === stableStringify(wanted) && percent === weight) return undefined;
  return managedRulesPatch(
    route.listPath,
    route.rules,
    isManaged,
    weightPatch(route.lists, route.shape, route.targets, weight),
    wanted,
  );
}

// Decides whether an owned object needs a write. Pure.
import type { KubernetesObject } from '@kubernetes/client-node';
import { createHash } from 'node:crypto';
import { stableStringify } from '../render';

export const ANNOTATION_APPLIED = 'msop.dev/applied-hash';

/** A short hash of what msop applies; stored on the object so a removed field is noticed too. */
export function appliedHash(desired: KubernetesObject): string {
  return createHash('sha256').update(stableStringify(desired)).digest('hex').slice(0, 16);
}

/** The desired object with its applied hash annotation, as it is sent. */
export function withAppliedHash<T extends KubernetesObject>(desired: T): T {
  const hash = appliedHash(desired);
  return {
    ...desired,
    metadata: { ...desired.metadata, annotations: { ...desired.metadata?.annotations, [ANNOTATION_APPLIED]: hash } },
  };
}

/**
 * True when every field msop sets has the same value in the live object.
 * Numbers and strings compare as text, since int-or-string fields round-trip either way,
 * and a zero value matches an absent one, since the API server omits empty fields.
 */
export function isSubset(desired: unknown, live: unknown): boolean {
  if (live === undefined || live === null) return isZero(desired);
  if (Array.isArray(desired)) {
    return Array.isArray(live) && live.length === desired.length && desired.every((d, i) => isSubset(d, live[i]));
  }
  if (desired !== null && typeof desired === 'object') {
    if (live === null || typeof live !== 'object' || Array.isArray(live)) return false;
    const liveRecord = live as Record<string, unknown>;
    return Object.entries(desired).every(([key, value]) => isSubset(value, liveRecord[key]));
  }
  if (desired === live) return true;
  if (typeof desired !== 'number' && typeof desired !== 'string') return false;
  // A number and its string (replicas 1 and "1") are one value; an object or a list never equals a scalar.
  return (
    (typeof live === 'number' || typeof live === 'string' || typeof live === 'boolean') &&
    String(desired) === String(live)
  );
}

/** An object needs a write when it is missing, was applied from other content, or drifted. */
export function needsApply(sent: KubernetesObject, live: KubernetesObject | undefined): boolean {
  if (!live) return true;
  const sentHash = sent.metadata?.annotations?.[ANNOTATION_APPLIED];
  if (live.metadata?.annotations?.[ANNOTATION_APPLIED] !== sentHash) return true;
  return !isSubset(sent, live);
}

function isZero(value: unknown): boolean {
  if (value === undefined || value === null || value === 0 || value === false || value === '') return true;
  if (Array.isArray(value)) return value.length === 0;
  return typeof value === 'object' && Object.values(value).every(isZero);
}

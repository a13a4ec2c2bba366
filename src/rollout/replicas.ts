// Weight-to-replica arithmetic, pure (Argo Rollouts keeps the same in
// utils/replicaset/canary.go). N is the desired total number of pods.

/** Canary pods for a weight: ceil(weight × N / 100), at least 1 for any weight above 0. */
export function canaryReplicasFor(weight: number, total: number): number {
  if (weight <= 0 || total <= 0) return 0;
  return Math.min(total, Math.max(1, Math.ceil((weight * total) / 100)));
}

/**
 * Stable pods beside the canary under the replicas router: N minus the canary pods,
 * but never below 1 before promotion, so the stable revision always serves.
 */
export function stableReplicasFor(weight: number, total: number): number {
  if (total <= 0) return 0;
  return Math.max(1, total - canaryReplicasFor(weight, total));
}

/** The share of traffic the canary gets when a Service spreads it over ready pods. */
export function replicaWeight(canaryReady: number, stableReady: number): number {
  const all = canaryReady + stableReady;
  return all === 0 ? 0 : Math.round((100 * canaryReady) / all);
}

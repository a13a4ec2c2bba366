// A release's pods counted by revision, pure. status shows these while a release
// runs, rather than the stable Deployment's counts plus the canary ReplicaSet's:
// a promotion by adoption relabels the canary's ReplicaSet, orphans it and has
// the Deployment claim it, and each of those steps moved the old counts (the
// canary's pods left the canary, then joined the Deployment's status a moment
// later) while no pod changed, and each move was a status write.
//
// Worked example, replicas 1, a canary at 1 ready pod beside 1 stable pod:
//   canary running     stable set 1/1 (old), canary set 1/1 (new)          new 1/1, other 1/1
//   handed over        stable set 1/1 (old), orphan 1/1 (new)              new 1/1, other 1/1
//   claimed            Deployment's sets: 1/1 (old) and 1/1 (new)           new 1/1, other 1/1
//   old set scaled     Deployment's sets: 0/0 (old) and 1/1 (new)           new 1/1, other 0/0
// The old Deployment-based counts went 2 ready of 2, then 1 of 1 (the canary gone, not yet claimed),
// then 2 of 1 (claimed: the Deployment's status counts both sets against its spec.replicas of 1).

export interface ReplicaSetCounts {
  revision?: string;
  track?: string;
  /** Who controls it: the Microservice (msop's track sets), its Deployment, nobody (mid-handover), or another owner. */
  controller: 'microservice' | 'deployment' | 'none' | 'other';
  /** spec.replicas: the pods asked for. */
  replicas: number;
  /** status.replicas: the pods that exist. */
  pods: number;
  readyReplicas: number;
  availableReplicas: number;
}

export interface PodCounts {
  replicas: number;
  pods: number;
  readyReplicas: number;
  availableReplicas: number;
}

/** The pods of the desired revision and of every other, over the stable Deployment's sets and msop's new-revision track. */
export function podsByRevision(
  sets: ReplicaSetCounts[],
  desiredRevision: string,
  newTrack: string,
): { desired: PodCounts; other: PodCounts } {
  const zero = (): PodCounts => ({ replicas: 0, pods: 0, readyReplicas: 0, availableReplicas: 0 });
  const desired = zero();
  const other = zero();
  for (const rs of sets) {
    const counted =
      rs.controller === 'deployment' ||
      // msop's own set of the new revision (a stale one of another revision is being removed), or that set
      // between its hand-over and the Deployment's claim.
      (rs.revision === desiredRevision &&
        (rs.controller === 'none' || (rs.controller === 'microservice' && rs.track === newTrack)));
    if (!counted) continue;
    const into = rs.revision === desiredRevision ? desired : other;
    into.replicas += rs.replicas;
    into.pods += rs.pods;
    into.readyReplicas += rs.readyReplicas;
    into.availableReplicas += rs.availableReplicas;
  }
  return { desired, other };
}

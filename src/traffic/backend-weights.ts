// Weights on an existing route object (an HTTPRoute's backendRefs, a
// VirtualService's destinations) are changed with a JSON patch that touches
// only the weights and adds the canary backend: the rest of the route stays
// its owner's. `test` operations make the patch fail if the route changed
// under us; the next reconcile reads it again.
import type { JsonPatchOperation } from '../kube/client';
import { percentOf } from './router';

export interface BackendList {
  /** JSON pointer of the list, e.g. /spec/rules/0/backendRefs */
  path: string;
  backends: unknown[];
}

export interface BackendShape {
  /** The name the backend points at (an HTTPRoute backendRef name, a VirtualService destination host). */
  targetOf(backend: unknown): string | undefined;
  weightOf(backend: unknown): number;
  /** JSON pointer of the name or host inside one backend, for the test operation. */
  targetPointer: string;
  /** A canary backend modelled on the stable one, pointing at `target`. */
  canaryLike(stable: unknown, target: string, weight: number): unknown;
}

/** Which backends are the stable and the canary ones, and the canary target that goes with a stable one. */
export interface Targets {
  isStable(target: string): boolean;
  isCanary(target: string): boolean;
  canaryFor(stableTarget: string): string;
}

/** The lists that send traffic to the stable target, with the positions of the stable and canary backends. */
function matches(lists: BackendList[], shape: BackendShape, targets: Targets) {
  return lists.flatMap(({ path, backends }) => {
    const stableIndex = backends.findIndex((b) => targets.isStable(shape.targetOf(b) ?? ''));
    if (stableIndex === -1) return [];
    return [
      {
        path,
        backends,
        stableIndex,
        canaryIndex: backends.findIndex((b) => targets.isCanary(shape.targetOf(b) ?? '')),
      },
    ];
  });
}

/** The canary's percentage in the first list that sends to stable; undefined when none does. */
export function readCanaryPercent(lists: BackendList[], shape: BackendShape, targets: Targets): number | undefined {
  const [first] = matches(lists, shape, targets);
  if (!first) return undefined;
  if (first.canaryIndex === -1) return 0;
  return percentOf(
    shape.weightOf(first.backends[first.canaryIndex]),
    shape.weightOf(first.backends[first.stableIndex]),
  );
}

/** The patch that sets canary `weight` and stable `100 - weight` in every list that sends to stable; empty when nothing matches. */
export function weightPatch(
  lists: BackendList[],
  shape: BackendShape,
  targets: Targets,
  weight: number,
): JsonPatchOperation[] {
  const operations: JsonPatchOperation[] = [];
  for (const { path, backends, stableIndex, canaryIndex } of matches(lists, shape, targets)) {
    const stable = backends[stableIndex];
    const stableTarget = shape.targetOf(stable)!;
    operations.push(
      { op: 'test', path: `${path}/${stableIndex}${shape.targetPointer}`, value: stableTarget },
      { op: 'add', path: `${path}/${stableIndex}/weight`, value: 100 - weight },
    );
    if (canaryIndex === -1) {
      operations.push({
        op: 'add',
        path: `${path}/-`,
        value: shape.canaryLike(stable, targets.canaryFor(stableTarget), weight),
      });
    } else {
      operations.push(
        {
          op: 'test',
          path: `${path}/${canaryIndex}${shape.targetPointer}`,
          value: shape.targetOf(backends[canaryIndex]),
        },
        { op: 'add', path: `${path}/${canaryIndex}/weight`, value: weight },
      );
    }
  }
  return operations;
}

/** The patch that takes the canary backends out again and gives the stable ones all the traffic (clean-up). */
export function canaryRemovalPatch(lists: BackendList[], shape: BackendShape, targets: Targets): JsonPatchOperation[] {
  return matches(lists, shape, targets).flatMap(({ path, backends, stableIndex, canaryIndex }) => {
    const stable: JsonPatchOperation[] = [
      {
        op: 'test',
        path: `${path}/${stableIndex}${shape.targetPointer}`,
        value: shape.targetOf(backends[stableIndex]),
      },
      { op: 'add', path: `${path}/${stableIndex}/weight`, value: 100 },
    ];
    if (canaryIndex === -1) return stable;
    return [
      ...stable,
      {
        op: 'test',
        path: `${path}/${canaryIndex}${shape.targetPointer}`,
        value: shape.targetOf(backends[canaryIndex]),
      },
      { op: 'remove', path: `${path}/${canaryIndex}` },
    ];
  });
}

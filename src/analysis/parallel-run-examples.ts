// The comparator exports its current differing examples as msop_parallel_run_difference_info
// series (docs/parallel-run.md). These turn such series into the few lines status shows a person.

/** The instant query for one Microservice's examples; every comparator pod's are returned. */
export function differenceInfoQuery(namespace: string, name: string): string {
  return (
    `msop_parallel_run_difference_info{namespace=${JSON.stringify(namespace)},` +
    `msop_dev_microservice=${JSON.stringify(name)},msop_dev_track="comparator"}`
  );
}

/** At most this many examples reach status. */
export const MAX_STATUS_EXAMPLES = 5;

/**
 * `GET /orders?id=*: body $.price: 10 != 11`, with ` (route r)` after the path when the route is not
 * "default". Duplicates (the same example from two comparator pods) appear once; the order is
 * sorted, so the same series always give the same list and status is not rewritten for nothing.
 */
export function parallelRunExamples(
  series: readonly { metric: Readonly<Record<string, string>> }[],
  max = MAX_STATUS_EXAMPLES,
): string[] {
  const lines = new Set<string>();
  for (const { metric } of series) {
    const { method, path, difference, route } = metric;
    if (!method || !path || !difference) continue;
    const where = route && route !== 'default' ? `${path} (route ${route})` : path;
    lines.add(`${method} ${where}: ${difference}`);
  }
  return [...lines].sort().slice(0, max);
}

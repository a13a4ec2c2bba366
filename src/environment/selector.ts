// Label selectors (metav1.LabelSelector) evaluated against a namespace's labels, as the API server does.
import type { NamespaceSelector } from '../api/environment.generated';

/** True when every matchLabels entry and every matchExpressions requirement holds. An empty selector selects nothing. */
export function selects(selector: NamespaceSelector | undefined, labels: Record<string, string>): boolean {
  const matchLabels = Object.entries(selector?.matchLabels ?? {});
  const expressions = selector?.matchExpressions ?? [];
  // The CRD refuses an empty selector; an older or hand-made object must not select every namespace.
  if (matchLabels.length === 0 && expressions.length === 0) return false;
  if (!matchLabels.every(([key, value]) => labels[key] === value)) return false;
  return expressions.every(({ key, operator, values = [] }) => {
    const has = Object.hasOwn(labels, key);
    switch (operator) {
      case 'In':
        return has && values.includes(labels[key]!);
      case 'NotIn':
        return !has || !values.includes(labels[key]!);
      case 'Exists':
        return has;
      case 'DoesNotExist':
        return !has;
      default:
        return false;
    }
  });
}

import { resourcePath, resourceType } from '../../../src/kube/resources';

describe('resourceType', () => {
  test.each([
    ['v1', 'Service', 'services', true],
    ['v1', 'Namespace', 'namespaces', false],
    ['apps/v1', 'Deployment', 'deployments', true],
    ['msop.dev/v1alpha1', 'Microservice', 'microservices', true],
    ['autoscaling/v2', 'HorizontalPodAutoscaler', 'horizontalpodautoscalers', true],
    ['policy/v1', 'PodDisruptionBudget', 'poddisruptionbudgets', true],
    ['coordination.k8s.io/v1', 'Lease', 'leases', true],
  ])('maps %s %s to %s (namespaced: %s)', (apiVersion, kind, plural, namespaced) => {
    expect(resourceType(apiVersion, kind)).toEqual({ apiVersion, kind, plural, namespaced });
  });

  test.each([
    ['an unknown kind', 'v1', 'Widget'],
    ['a known kind in another version', 'apps/v1beta1', 'Deployment'],
    ['a known kind in another group', 'v1', 'Deployment'],
    ['a kind in the wrong case', 'v1', 'service'],
  ])('throws a clear error for %s', (_name, apiVersion, kind) => {
    expect(() => resourceType(apiVersion, kind)).toThrow(`msop has no REST mapping for ${apiVersion} ${kind}`);
  });
});

describe('resourcePath', () => {
  test.each<[string, string, string, string | undefined, string | undefined, string]>([
    ['a core object', 'v1', 'Service', 'shop', 'orders', '/api/v1/namespaces/shop/services/orders'],
    ['a core collection in a namespace', 'v1', 'ConfigMap', 'shop', undefined, '/api/v1/namespaces/shop/configmaps'],
    ['a core collection in all namespaces', 'v1', 'Pod', undefined, undefined, '/api/v1/pods'],
    ['a grouped object', 'apps/v1', 'Deployment', 'shop', 'orders', '/apis/apps/v1/namespaces/shop/deployments/orders'],
    [
      'a grouped collection in a namespace',
      'apps/v1',
      'ReplicaSet',
      'shop',
      undefined,
      '/apis/apps/v1/namespaces/shop/replicasets',
    ],
    [
      'a grouped collection in all namespaces',
      'apps/v1',
      'Deployment',
      undefined,
      undefined,
      '/apis/apps/v1/deployments',
    ],
    [
      'a custom resource',
      'msop.dev/v1alpha1',
      'Microservice',
      'shop',
      'orders',
      '/apis/msop.dev/v1alpha1/namespaces/shop/microservices/orders',
    ],
    [
      'a dotted group',
      'coordination.k8s.io/v1',
      'Lease',
      'msop-system',
      'msop-leader',
      '/apis/coordination.k8s.io/v1/namespaces/msop-system/leases/msop-leader',
    ],
    ['a cluster-scoped object', 'v1', 'Namespace', undefined, 'shop', '/api/v1/namespaces/shop'],
    ['a cluster-scoped collection', 'v1', 'Namespace', undefined, undefined, '/api/v1/namespaces'],
    ['a cluster-scoped object, ignoring a namespace', 'v1', 'Namespace', 'ignored', 'shop', '/api/v1/namespaces/shop'],
    ['an empty namespace as all namespaces', 'apps/v1', 'Deployment', '', undefined, '/apis/apps/v1/deployments'],
    ['a name that needs escaping', 'v1', 'Secret', 'shop', 'a b/c', '/api/v1/namespaces/shop/secrets/a%20b%2Fc'],
  ])('builds the path of %s', (_name, apiVersion, kind, namespace, name, expected) => {
    expect(resourcePath(resourceType(apiVersion, kind), namespace, name)).toBe(expected);
  });
});

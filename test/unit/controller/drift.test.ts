import type { KubernetesObject, V1OwnerReference, V1Service } from '@kubernetes/client-node';
import { ANNOTATION_APPLIED, appliedHash, isSubset, needsApply, withAppliedHash } from '../../../src/controller/drift';
import { isControlledBy } from '../../../src/render/ownership';

describe('isSubset', () => {
  test.each<[string, unknown, unknown]>([
    ['equal strings', 'a', 'a'],
    ['equal numbers', 3, 3],
    ['equal booleans', true, true],
    ['null and null', null, null],
    ['an empty object and anything', {}, { a: 1 }],
    ['fewer keys than live', { a: 1 }, { a: 1, b: 2 }],
    [
      'nested objects',
      { spec: { template: { image: 'x:1' } } },
      { spec: { template: { image: 'x:1', pull: 'Always' } } },
    ],
    ['equal arrays', [1, 2, 3], [1, 2, 3]],
    ['arrays of objects that are subsets', [{ name: 'http' }], [{ name: 'http', protocol: 'TCP' }]],
    ['a number and its text', 8080, '8080'],
    ['text and its number', '8080', 8080],
    ['a quantity and its text', 1, '1'],
    ['0 and an absent field', { replicas: 0 }, {}],
    ['false and an absent field', { paused: false }, {}],
    ["'' and an absent field", { prefix: '' }, {}],
    ['[] and an absent field', { ports: [] }, {}],
    ['{} and an absent field', { labels: {} }, {}],
    ['an object of zeros and an absent field', { strategy: { maxSurge: 0, paused: false, rules: [], meta: {} } }, {}],
    ['null and an absent field', { value: null }, {}],
    ['undefined and an absent field', { value: undefined }, {}],
    ['0 and a null field', { replicas: 0 }, { replicas: null }],
    ['a zero at the top level and nothing', 0, undefined],
  ])('accepts %s', (_name, desired, live) => {
    expect(isSubset(desired, live)).toBe(true);
  });

  test.each<[string, unknown, unknown]>([
    ['different strings', 'a', 'b'],
    ['different numbers', 3, 4],
    ['different booleans', true, false],
    ['a number and other text', 8080, 'http'],
    ['a boolean and its text', true, 'true'],
    ['a changed nested field', { spec: { image: 'x:1' } }, { spec: { image: 'x:2' } }],
    ['a field missing from live', { a: 1, b: 2 }, { a: 1 }],
    ['a shorter live array', [1, 2], [1]],
    ['a longer live array', [1], [1, 2]],
    ['arrays in another order', [1, 2], [2, 1]],
    ['an array and an object', [1], { 0: 1 }],
    ['an object and an array', { a: 1 }, [1]],
    ['an object and a string', { a: 1 }, 'a'],
    ['a non-zero number and an absent field', { replicas: 3 }, {}],
    ['true and an absent field', { paused: true }, {}],
    ['text and an absent field', { prefix: '/api' }, {}],
    ['a non-empty array and an absent field', { ports: [80] }, {}],
    ['an object with one non-zero value and an absent field', { strategy: { maxSurge: 0, maxUnavailable: 1 } }, {}],
    ['a non-zero value and nothing', 'x', undefined],
    ['an empty array and a non-empty one', [], [1]],
    ['a zero and a non-zero live value', { replicas: 0 }, { replicas: 2 }],
  ])('rejects %s', (_name, desired, live) => {
    expect(isSubset(desired, live)).toBe(false);
  });
});

describe('appliedHash', () => {
  const service: KubernetesObject & { spec: unknown } = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'orders', namespace: 'shop', labels: { a: '1', b: '2' } },
    spec: { ports: [{ name: 'http', port: 80 }] },
  };

  test('is 16 lowercase hex characters', () => {
    expect(appliedHash(service)).toMatch(/^[0-9a-f]{16}$/);
  });

  test('does not depend on key order', () => {
    const reordered = {
      spec: { ports: [{ port: 80, name: 'http' }] },
      metadata: { labels: { b: '2', a: '1' }, namespace: 'shop', name: 'orders' },
      kind: 'Service',
      apiVersion: 'v1',
    };
    expect(appliedHash(reordered)).toBe(appliedHash(service));
  });

  test.each<[string, KubernetesObject]>([
    ['a changed value', { ...service, spec: { ports: [{ name: 'http', port: 81 }] } } as KubernetesObject],
    ['a removed field', { ...service, spec: {} } as KubernetesObject],
    ['an added label', { ...service, metadata: { ...service.metadata, labels: { a: '1', b: '2', c: '3' } } }],
  ])('changes with %s', (_name, changed) => {
    expect(appliedHash(changed)).not.toBe(appliedHash(service));
  });

  test('withAppliedHash adds the hash annotation and keeps the other annotations', () => {
    const annotated = { ...service, metadata: { ...service.metadata, annotations: { team: 'shop' } } };
    const sent = withAppliedHash(annotated);
    expect(sent.metadata?.annotations).toEqual({ team: 'shop', [ANNOTATION_APPLIED]: appliedHash(annotated) });
    expect(annotated.metadata.annotations).toEqual({ team: 'shop' });
  });
});

describe('needsApply', () => {
  const desired: V1Service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'orders', namespace: 'shop', labels: { app: 'orders' } },
    spec: { type: 'ClusterIP', ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
  };
  const sent = withAppliedHash(desired);
  const hash = sent.metadata?.annotations?.[ANNOTATION_APPLIED] ?? '';
  /** What the API server gives back: our fields plus defaults and metadata of its own. */
  const live: V1Service = {
    ...sent,
    metadata: { ...sent.metadata, uid: 'uid-1', resourceVersion: '42', annotations: { [ANNOTATION_APPLIED]: hash } },
    spec: {
      ...sent.spec,
      clusterIP: '10.0.0.12',
      ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }],
    },
    status: { loadBalancer: {} },
  };

  test.each<[string, V1Service | undefined]>([
    ['the live object is missing', undefined],
    [
      'the live hash differs',
      { ...live, metadata: { ...live.metadata, annotations: { [ANNOTATION_APPLIED]: '0000000000000000' } } },
    ],
    ['the live object has no hash', { ...live, metadata: { ...live.metadata, annotations: {} } }],
    ['the hash matches but a field drifted', { ...live, spec: { ...live.spec, type: 'NodePort' } }],
    ['the hash matches but a label was removed', { ...live, metadata: { ...live.metadata, labels: {} } }],
    [
      'the hash matches but a list item drifted',
      { ...live, spec: { ...live.spec, ports: [{ name: 'http', port: 8080, targetPort: 'http', protocol: 'TCP' }] } },
    ],
  ])('is true when %s', (_name, liveObject) => {
    expect(needsApply(sent, liveObject)).toBe(true);
  });

  test.each<[string, V1Service]>([
    ['the hash matches and live holds every sent field', live],
    ['live is exactly what was sent', sent],
  ])('is false when %s', (_name, liveObject) => {
    expect(needsApply(sent, liveObject)).toBe(false);
  });

  test('a sent object without a hash matches a live object without one', () => {
    expect(needsApply(desired, { ...desired, metadata: { ...desired.metadata, uid: 'uid-1' } })).toBe(false);
  });
});

describe('isControlledBy', () => {
  const ref = (uid: string, controller?: boolean): V1OwnerReference => ({
    apiVersion: 'msop.dev/v1alpha1',
    kind: 'Microservice',
    name: 'orders',
    uid,
    ...(controller === undefined ? {} : { controller }),
  });
  const owned = (ownerReferences?: V1OwnerReference[]): KubernetesObject => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'orders', ...(ownerReferences ? { ownerReferences } : {}) },
  });

  test.each<[string, boolean, KubernetesObject]>([
    ['the controller reference has the uid', true, owned([ref('uid-1', true)])],
    ['one of several references is the controller with the uid', true, owned([ref('uid-2'), ref('uid-1', true)])],
    ['a non-controller reference has the uid', false, owned([ref('uid-1', false)])],
    ['a reference without controller has the uid', false, owned([ref('uid-1')])],
    ['the controller reference has another uid', false, owned([ref('uid-2', true)])],
    ['there are no owner references', false, owned([])],
    ['ownerReferences is absent', false, owned()],
    ['metadata is absent', false, { apiVersion: 'v1', kind: 'Service' }],
  ])('%s → %s', (_name, expected, object) => {
    expect(isControlledBy(object, 'uid-1')).toBe(expected);
  });
});

import type { Microservice, MicroserviceSpec } from '../../../src/api/types';
import { ownedKinds, referencedConfig, renderChildren, RenderError, type TrackedContent } from '../../../src/render';
import { defaults, kindsAndNames, microservice, noTracked, render } from './fixtures';

describe('renderChildren', () => {
  test('gives identical JSON for the same input', () => {
    const spec: Partial<MicroserviceSpec> = {
      replicas: 3,
      env: [{ name: 'A', value: '1' }],
      podTemplate: { spec: { containers: [{ name: 'proxy', image: 'envoy' }] } },
    };
    expect(JSON.stringify(render(spec))).toBe(JSON.stringify(render(spec)));
  });

  test.each<[string, Partial<MicroserviceSpec>, string[]]>([
    ['the apex Service and the Deployment for one replica', {}, ['Service/orders', 'Deployment/orders']],
    [
      'a PodDisruptionBudget for several replicas',
      { replicas: 3 },
      ['Service/orders', 'Deployment/orders', 'PodDisruptionBudget/orders'],
    ],
    [
      'a PodDisruptionBudget and an HPA under autoscaling',
      { autoscaling: { maxReplicas: 5 } },
      ['Service/orders', 'Deployment/orders', 'PodDisruptionBudget/orders', 'HorizontalPodAutoscaler/orders'],
    ],
  ])('renders %s, in apply order', (_name, spec, expected) => {
    expect(kindsAndNames(render(spec))).toEqual(expected);
  });

  test('gives every object msop labels, the namespace and a controller owner reference', () => {
    for (const object of render({ autoscaling: { maxReplicas: 5 } }).objects) {
      expect(object.metadata!.namespace).toBe('shop');
      expect(object.metadata!.labels).toMatchObject({
        'msop.dev/microservice': 'orders',
        'app.kubernetes.io/name': 'orders',
        'app.kubernetes.io/managed-by': 'msop',
      });
      expect(object.metadata!.ownerReferences).toEqual([
        {
          apiVersion: 'msop.dev/v1alpha1',
          kind: 'Microservice',
          name: 'orders',
          uid: 'uid-1234',
          controller: true,
          blockOwnerDeletion: true,
        },
      ]);
      expect(object).not.toHaveProperty('status');
    }
  });

  test('lists every rendered kind in ownedKinds', () => {
    const owned = ownedKinds.map(({ apiVersion, kind }) => `${apiVersion}/${kind}`);
    for (const object of render({ autoscaling: { maxReplicas: 5 } }).objects) {
      expect(owned).toContain(`${object.apiVersion}/${object.kind}`);
    }
  });

  test('refuses a Microservice without a uid', () => {
    const withoutUid: Microservice = { ...microservice(), metadata: { name: 'orders', namespace: 'shop' } };
    expect(() => renderChildren({ microservice: withoutUid, tracked: noTracked, defaults })).toThrow(RenderError);
  });
});

describe('revision', () => {
  const config: Partial<MicroserviceSpec> = {
    envFrom: [{ configMapRef: { name: 'orders-config' } }],
    env: [{ name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'orders-secret', key: 'token' } } }],
  };
  const tracked: TrackedContent = {
    configMaps: { 'orders-config': { LOG_LEVEL: 'info' } },
    secrets: { 'orders-secret': { token: 'czNjcjN0' } },
  };
  const base = render(config, tracked).revision;

  test.each<[string, Partial<MicroserviceSpec>, TrackedContent]>([
    ['the image', { ...config, image: 'registry.example.com/shop/orders:1.4.3' }, tracked],
    ['a referenced ConfigMap', config, { ...tracked, configMaps: { 'orders-config': { LOG_LEVEL: 'debug' } } }],
    ['a referenced Secret', config, { ...tracked, secrets: { 'orders-secret': { token: 'bmV3' } } }],
    ['the podTemplate override', { ...config, podTemplate: { metadata: { annotations: { a: 'b' } } } }, tracked],
    ['the spread rules', { ...config, placement: { spreadAcrossZones: false } }, tracked],
  ])('changes with %s', (_name, spec, changedTracked) => {
    expect(render(spec, changedTracked).revision).not.toBe(base);
  });

  test.each<[string, Partial<MicroserviceSpec>, TrackedContent]>([
    ['an empty placement', { ...config, placement: {} }, tracked],
    ['the replica count (kubectl scale)', { ...config, replicas: 7 }, tracked],
    ['autoscaling', { ...config, autoscaling: { minReplicas: 2, maxReplicas: 9 } }, tracked],
    ['placement defaults filled in by the API server', { ...config, placement: { spreadAcrossNodes: true } }, tracked],
    ['the Service settings', { ...config, service: { type: 'LoadBalancer' } }, tracked],
    ['progressDeadlineSeconds', { ...config, release: { progressDeadlineSeconds: 60 } }, tracked],
    [
      'an unreferenced ConfigMap passed in',
      config,
      { ...tracked, configMaps: { ...tracked.configMaps, other: { x: '1' } } },
    ],
    [
      'the key order of tracked data',
      config,
      { secrets: tracked.secrets, configMaps: { 'orders-config': { LOG_LEVEL: 'info' } } },
    ],
  ])('does not change with %s', (_name, spec, changedTracked) => {
    expect(render(spec, changedTracked).revision).toBe(base);
  });

  test('does not change while replicas stay above one', () => {
    expect(render({ ...config, replicas: 5 }, tracked).revision).toBe(
      render({ ...config, replicas: 2 }, tracked).revision,
    );
  });

  test('does not change with metadata or status of the Microservice', () => {
    const changed: Microservice = {
      ...microservice(config),
      metadata: { ...microservice().metadata, resourceVersion: '999', generation: 7, annotations: { x: 'y' } },
      status: { observedGeneration: 6 } as Microservice['status'],
    };
    expect(renderChildren({ microservice: changed, tracked, defaults }).revision).toBe(base);
  });

  test('does not depend on the key order of the spec', () => {
    const reordered = Object.fromEntries(Object.entries({ ...config, image: microservice().spec.image }).reverse());
    expect(render(reordered as Partial<MicroserviceSpec>, tracked).revision).toBe(base);
  });
});

describe('referencedConfig', () => {
  test('collects envFrom and env references, sorted and unique', () => {
    expect(
      referencedConfig({
        image: 'x',
        envFrom: [
          { configMapRef: { name: 'b-config' } },
          { secretRef: { name: 'z-secret', optional: true } },
          { configMapRef: { name: 'a-config', optional: true } },
        ],
        env: [
          { name: 'PLAIN', value: '1' },
          { name: 'FROM_CM', valueFrom: { configMapKeyRef: { name: 'b-config', key: 'k' } } },
          { name: 'FROM_SECRET', valueFrom: { secretKeyRef: { name: 'a-secret', key: 'k' } } },
          { name: 'FIELD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        ],
      }),
    ).toEqual({
      configMaps: [
        { name: 'a-config', optional: true },
        { name: 'b-config', optional: false },
      ],
      secrets: [
        { name: 'a-secret', optional: false },
        { name: 'z-secret', optional: true },
      ],
    });
  });

  test.each<[string, (boolean | undefined)[], boolean]>([
    ['optional when every reference is optional', [true, true], true],
    ['required when any reference is required', [true, false], false],
    ['required when optional is not set', [true, undefined], false],
  ])('treats a ConfigMap as %s', (_name, flags, optional) => {
    const envFrom = flags.map((flag) => ({ configMapRef: { name: 'cfg', optional: flag } }));
    expect(referencedConfig({ image: 'x', envFrom }).configMaps).toEqual([{ name: 'cfg', optional }]);
  });

  test('skips malformed references in the unvalidated valueFrom', () => {
    const env = [{ name: 'BAD', valueFrom: { configMapKeyRef: { name: 42, key: 'k' } } }];
    expect(referencedConfig({ image: 'x', env } as unknown as MicroserviceSpec).configMaps).toEqual([]);
  });

  test('is empty without env or envFrom', () => {
    expect(referencedConfig({ image: 'x' })).toEqual({ configMaps: [], secrets: [] });
  });
});

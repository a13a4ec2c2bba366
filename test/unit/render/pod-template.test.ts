import type { V1Deployment } from '@kubernetes/client-node';
import type { MicroserviceSpec } from '../../../src/api/types';
import { withTrack } from '../../../src/render';
import { appOf, find, render, templateOf } from './fixtures';

describe('pod template', () => {
  test('runs one container named app with the image', () => {
    const { containers } = templateOf().spec!;
    expect(containers.map((container) => container.name)).toEqual(['app']);
    expect(containers[0]!.image).toBe('registry.example.com/shop/orders:1.4.2');
  });

  test('labels pods with the microservice, the stable track, the revision and the app name', () => {
    const children = render();
    expect(find<V1Deployment>(children, 'Deployment').spec!.template.metadata!.labels).toEqual({
      'msop.dev/microservice': 'orders',
      'msop.dev/track': 'stable',
      'msop.dev/revision': children.revision,
      'app.kubernetes.io/name': 'orders',
    });
  });

  test('applies restricted security defaults', () => {
    const { spec } = templateOf();
    expect(spec!.automountServiceAccountToken).toBe(false);
    expect(spec!.securityContext).toEqual({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(spec!.containers[0]!.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
  });

  test('gives the read-only container a writable /tmp', () => {
    const { spec } = templateOf();
    expect(spec!.volumes).toEqual([{ name: 'tmp', emptyDir: {} }]);
    expect(spec!.containers[0]!.volumeMounts).toEqual([{ name: 'tmp', mountPath: '/tmp' }]);
  });

  test('passes command, args, env, envFrom and imagePullPolicy through', () => {
    const app = appOf({
      imagePullPolicy: 'IfNotPresent',
      command: ['/bin/orders'],
      args: ['--verbose'],
      env: [{ name: 'LOG_LEVEL', value: 'debug' }],
      envFrom: [{ configMapRef: { name: 'orders-config' }, prefix: 'CFG_' }],
    });
    expect(app.imagePullPolicy).toBe('IfNotPresent');
    expect(app.command).toEqual(['/bin/orders']);
    expect(app.args).toEqual(['--verbose']);
    expect(app.env).toEqual([{ name: 'LOG_LEVEL', value: 'debug' }]);
    expect(app.envFrom).toEqual([{ configMapRef: { name: 'orders-config' }, prefix: 'CFG_' }]);
  });

  test('leaves out what the spec leaves out', () => {
    const app = appOf({ command: [], env: [] });
    for (const field of ['imagePullPolicy', 'command', 'args', 'env', 'envFrom', 'livenessProbe', 'startupProbe']) {
      expect(app).not.toHaveProperty(field);
    }
    for (const field of ['nodeSelector', 'tolerations', 'affinity']) {
      expect(templateOf().spec).not.toHaveProperty(field);
    }
    expect(templateOf().metadata).not.toHaveProperty('annotations');
  });

  test.each([
    ['the default port', {}, [{ name: 'http', containerPort: 8080, protocol: 'TCP' }]],
    [
      'declared ports, with TCP by default',
      {
        ports: [
          { name: 'web', containerPort: 3000 },
          { name: 'dns', containerPort: 5353, protocol: 'UDP' as const },
        ],
      },
      [
        { name: 'web', containerPort: 3000, protocol: 'TCP' },
        { name: 'dns', containerPort: 5353, protocol: 'UDP' },
      ],
    ],
  ])('exposes %s', (_name, spec, expected) => {
    expect(appOf(spec).ports).toEqual(expected);
  });

  test.each<[string, Partial<MicroserviceSpec>, object]>([
    [
      'the operator defaults when spec.resources is absent',
      {},
      { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
    ],
    [
      'the operator defaults when spec.resources is empty',
      { resources: {} },
      { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
    ],
    [
      'spec requests with default limits, numbers as quantities',
      { resources: { requests: { cpu: 1, memory: '200Mi' } } },
      { requests: { cpu: '1', memory: '200Mi' }, limits: { memory: '256Mi' } },
    ],
    [
      'spec requests above the default limit, which takes the request (the API server refuses a request above its limit)',
      { resources: { requests: { memory: '1Gi' } } },
      { requests: { memory: '1Gi' }, limits: { memory: '1Gi' } },
    ],
    [
      'spec limits with default requests',
      { resources: { limits: { cpu: '2', memory: '2Gi' } } },
      { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '2', memory: '2Gi' } },
    ],
    [
      'spec limits below the default requests, which take the limit',
      { resources: { limits: { cpu: '0.05', memory: '64Mi' } } },
      { requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '50m', memory: '64Mi' } },
    ],
    [
      'spellings in canonical form',
      { resources: { requests: { cpu: '0.5', memory: '1024Mi' }, limits: { cpu: '1000m', memory: '1.5Gi' } } },
      { requests: { cpu: '500m', memory: '1Gi' }, limits: { cpu: '1', memory: '1536Mi' } },
    ],
  ])('sets resources from %s', (_name, spec, expected) => {
    expect(appOf(spec).resources).toEqual(expected);
  });

  test('lets the podTemplate override drop a default limit', () => {
    const app = appOf({ podTemplate: { spec: { containers: [{ name: 'app', resources: { limits: null } }] } } });
    expect(app.resources).toEqual({ requests: { cpu: '100m', memory: '128Mi' } });
  });

  test('passes nodeSelector, tolerations and affinity through', () => {
    const affinity = {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [{ matchExpressions: [{ key: 'arch', operator: 'In', values: ['arm64'] }] }],
        },
      },
    };
    const tolerations = [{ key: 'dedicated', operator: 'Equal', value: 'shop', effect: 'NoSchedule' }];
    const { spec } = templateOf({ placement: { nodeSelector: { pool: 'shop' }, tolerations, affinity } });
    expect(spec!.nodeSelector).toEqual({ pool: 'shop' });
    expect(spec!.tolerations).toEqual(tolerations);
    expect(spec!.affinity).toEqual(affinity);
  });
});

describe('topology spread', () => {
  const zone = 'topology.kubernetes.io/zone';
  const host = 'kubernetes.io/hostname';

  test.each<[string, Partial<MicroserviceSpec>, string[]]>([
    ['zones and nodes for the default single replica', {}, [zone, host]],
    ['zones and nodes for several replicas', { replicas: 3 }, [zone, host]],
    ['zones and nodes under autoscaling', { replicas: 1, autoscaling: { maxReplicas: 5 } }, [zone, host]],
    ['nodes only when zones are turned off', { replicas: 3, placement: { spreadAcrossZones: false } }, [host]],
    ['zones only when nodes are turned off', { replicas: 3, placement: { spreadAcrossNodes: false } }, [zone]],
    ['none when both are off', { replicas: 3, placement: { spreadAcrossZones: false, spreadAcrossNodes: false } }, []],
    [
      'zones and nodes when asked for explicitly',
      { placement: { spreadAcrossZones: true, spreadAcrossNodes: true } },
      [zone, host],
    ],
  ])('%s', (_name, spec, keys) => {
    const constraints = templateOf(spec).spec!.topologySpreadConstraints ?? [];
    expect(constraints.map((constraint) => constraint.topologyKey)).toEqual(keys);
  });

  test('uses maxSkew 1, ScheduleAnyway and the stable track selector', () => {
    expect(templateOf({ replicas: 2 }).spec!.topologySpreadConstraints![0]).toEqual({
      maxSkew: 1,
      topologyKey: zone,
      whenUnsatisfiable: 'ScheduleAnyway',
      labelSelector: { matchLabels: { 'msop.dev/microservice': 'orders', 'msop.dev/track': 'stable' } },
    });
  });
});

describe('podTemplate override', () => {
  test('adds a sidecar and patches the app container by name', () => {
    const { spec } = templateOf({
      podTemplate: {
        spec: {
          containers: [
            { name: 'proxy', image: 'envoy:1.30' },
            { name: 'app', env: [{ name: 'EXTRA', value: '1' }], securityContext: { readOnlyRootFilesystem: false } },
          ],
        },
      },
    });
    expect(spec!.containers.map((container) => container.name)).toEqual(['app', 'proxy']);
    const app = spec!.containers[0]!;
    expect(app.image).toBe('registry.example.com/shop/orders:1.4.2');
    expect(app.env).toEqual([{ name: 'EXTRA', value: '1' }]);
    expect(app.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: false,
      capabilities: { drop: ['ALL'] },
    });
  });

  test('merges env by name into the declared env', () => {
    const app = appOf({
      env: [
        { name: 'A', value: '1' },
        { name: 'B', value: '2' },
      ],
      podTemplate: { spec: { containers: [{ name: 'app', env: [{ name: 'B', value: 'patched' }] }] } },
    });
    expect(app.env).toEqual([
      { name: 'A', value: '1' },
      { name: 'B', value: 'patched' },
    ]);
  });

  test('adds volumes by name and replaces unnamed lists', () => {
    const { spec } = templateOf({
      placement: { tolerations: [{ key: 'a', operator: 'Exists' }] },
      podTemplate: {
        spec: { volumes: [{ name: 'cache', emptyDir: {} }], tolerations: [{ key: 'b', operator: 'Exists' }] },
      },
    });
    expect(spec!.volumes!.map((volume) => volume.name)).toEqual(['tmp', 'cache']);
    expect(spec!.tolerations).toEqual([{ key: 'b', operator: 'Exists' }]);
  });

  test('sets pod spec fields msop does not generate', () => {
    const { spec } = templateOf({
      podTemplate: {
        spec: { serviceAccountName: 'orders', priorityClassName: 'high', automountServiceAccountToken: true },
      },
    });
    expect(spec!.serviceAccountName).toBe('orders');
    expect(spec!.priorityClassName).toBe('high');
    expect(spec!.automountServiceAccountToken).toBe(true);
  });

  test('merges labels and annotations, but msop selector labels win', () => {
    const children = render({
      podTemplate: {
        metadata: {
          labels: { team: 'shop', 'msop.dev/track': 'hijacked', 'msop.dev/microservice': 'other' },
          annotations: { 'prometheus.io/scrape': 'true' },
        },
      },
    });
    const { metadata } = find<V1Deployment>(children, 'Deployment').spec!.template;
    expect(metadata!.labels).toEqual({
      team: 'shop',
      'msop.dev/microservice': 'orders',
      'msop.dev/track': 'stable',
      'msop.dev/revision': children.revision,
      'app.kubernetes.io/name': 'orders',
    });
    expect(metadata!.annotations).toEqual({ 'prometheus.io/scrape': 'true' });
  });
});

describe('withTrack', () => {
  test('moves the pod labels and the spread selectors to another track and leaves the input alone', () => {
    const stable = templateOf({ replicas: 3 });
    const before = JSON.stringify(stable);
    const canary = withTrack(stable, 'canary');
    expect(canary.metadata!.labels!['msop.dev/track']).toBe('canary');
    expect(canary.metadata!.labels!['msop.dev/revision']).toBe(stable.metadata!.labels!['msop.dev/revision']);
    for (const constraint of canary.spec!.topologySpreadConstraints!) {
      expect(constraint.labelSelector!.matchLabels!['msop.dev/track']).toBe('canary');
    }
    expect(JSON.stringify(stable)).toBe(before);
  });
});

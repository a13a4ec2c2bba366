// Generated Microservices around the edges of crds/microservice.yaml: names at the 54-character limit, every port
// name shape, quantities in every accepted spelling, empty and full lists, every step combination, durations at
// the bounds, every strategy and router. Each generator yields only what the schema accepts (checked, where a
// generator could produce more, by a small re-implementation of the rule). Shared by the unit and cluster tiers.
import fc from 'fast-check';
import type { MicroserviceSpec } from '../../src/api/types';

export const NAME_LIMIT = 54;
const LOWER = [...'abcdefghijklmnopqrstuvwxyz'];
const ALNUM = [...LOWER, ...'0123456789'];
const DNS_MIDDLE = [...ALNUM, '-'];

/** A DNS-1035 label of exactly `length` characters, as metadata.name takes it. */
function labelOfLength(length: number): fc.Arbitrary<string> {
  if (length === 1) return fc.constantFrom(...LOWER);
  return fc
    .tuple(
      fc.constantFrom(...LOWER),
      fc.array(fc.constantFrom(...DNS_MIDDLE), { minLength: length - 2, maxLength: length - 2 }),
      fc.constantFrom(...ALNUM),
    )
    .map(([first, middle, last]) => `${first}${middle.join('')}${last}`);
}

/** Microservice names, a third of them at the limit. */
export const microserviceName = (maxLength = NAME_LIMIT): fc.Arbitrary<string> =>
  fc.oneof(fc.constant(maxLength), fc.integer({ min: 1, max: maxLength }), fc.constant(1)).chain(labelOfLength);

/** The CRD's rules for spec.ports[].name: its pattern and its CEL rule. */
export const portNameAccepted = (name: string): boolean =>
  /^[a-z0-9]([a-z0-9-]{0,13}[a-z0-9])?$/.test(name) && /[a-z]/.test(name) && !name.includes('--');

const portName = fc.oneof(
  fc.constantFrom('http', 'grpc', 'metrics', 'h2c', 'a', 'x1', '1x', 'http-alt', 'a-b-c-d-e-f-g-h', 'abcdefghijklmno'),
  fc.string({ unit: fc.constantFrom(...DNS_MIDDLE), minLength: 1, maxLength: 15 }).filter(portNameAccepted),
);

const portNumber = fc.oneof(fc.constantFrom(1, 80, 8080, 65535), fc.integer({ min: 1, max: 65535 }));

type Port = NonNullable<MicroserviceSpec['ports']>[number];
const port: fc.Arbitrary<Port> = fc.record(
  {
    name: portName,
    containerPort: portNumber,
    servicePort: portNumber,
    protocol: fc.constantFrom<Port['protocol']>('TCP', 'UDP', 'SCTP'),
  },
  { requiredKeys: ['name', 'containerPort'] },
);

const uniqueBy = <T>(items: T[], key: (item: T) => string) => new Set(items.map(key)).size === items.length;
const ports = fc
  .oneof(
    fc.uniqueArray(port, { selector: (p) => p.name, minLength: 1, maxLength: 1 }),
    fc.uniqueArray(port, { selector: (p) => p.name, minLength: 1, maxLength: 16 }),
    fc.uniqueArray(port, { selector: (p) => p.name, minLength: 16, maxLength: 16 }),
  )
  .filter(
    (list) =>
      uniqueBy(list, (p) => `${p.containerPort}/${p.protocol ?? 'TCP'}`) &&
      uniqueBy(list, (p) => `${p.servicePort ?? p.containerPort}/${p.protocol ?? 'TCP'}`),
  );

/** Printable ASCII other than '=', the CRD's (and the API server's) rule for env names. */
const ENV_CHARS = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).filter((c) => c !== '=');
const envName = fc.oneof(
  fc.constantFrom('LOG_LEVEL', 'a', 'A1', '1A', 'x.y', 'a-b', 'with space', '$HOME', '~'),
  fc.string({ unit: fc.constantFrom(...ENV_CHARS), minLength: 1, maxLength: 24 }),
);
const envEntry: fc.Arbitrary<EnvVar> = fc.oneof(
  fc.record({ name: envName, value: fc.string({ maxLength: 40 }) }, { requiredKeys: ['name'] }),
  fc.record({
    name: envName,
    valueFrom: fc.constant<EnvVar['valueFrom']>({ fieldRef: { fieldPath: 'metadata.name' } }),
  }),
);
type EnvVar = NonNullable<MicroserviceSpec['env']>[number];
const env: fc.Arbitrary<EnvVar[]> = fc.oneof(
  fc.constant<EnvVar[]>([]),
  fc.uniqueArray(envEntry, { selector: (e) => e.name, maxLength: 8 }),
  fc.uniqueArray(envEntry, { selector: (e) => e.name, minLength: 256, maxLength: 256 }),
);

/**
 * A quantity spelled in one of the forms the CRD's pattern accepts, with the value `milli` thousandths:
 * plain, decimal, milli, nano, exponent, or a decimal or binary suffix where the value allows it.
 */
function spell(milli: number): fc.Arbitrary<string | number> {
  const forms: fc.Arbitrary<string | number>[] = [
    fc.constant(`${milli}m`),
    fc.constant(`${milli * 1_000_000}n`),
    fc.constant(`${milli}e-3`),
    fc.constant(`+${milli}m`),
    fc.constant(`${(milli / 1000).toString()}`),
  ];
  if (milli % 1000 === 0) {
    const whole = milli / 1000;
    forms.push(fc.constant(whole), fc.constant(`${whole}.`), fc.constant(`${whole}.000`), fc.constant(`${whole}E0`));
    if (whole % 1000 === 0) forms.push(fc.constant(`${whole / 1000}k`), fc.constant(`${whole / 1000}e3`));
    if (whole % 1_000_000 === 0) forms.push(fc.constant(`${whole / 1_000_000}M`));
    if (whole % 1024 === 0) forms.push(fc.constant(`${whole / 1024}Ki`));
    if (whole % 1024 ** 2 === 0) forms.push(fc.constant(`${whole / 1024 ** 2}Mi`));
    if (whole % 1024 ** 3 === 0)
      forms.push(fc.constant(`${whole / 1024 ** 3}Gi`), fc.constant(`${whole / 1024 ** 2 / 1024}.0Gi`));
    if (whole % 512 === 0) forms.push(fc.constant(`${whole / 1024}Ki`));
  }
  if (milli < 1000) forms.push(fc.constant(`.${String(milli).padStart(3, '0')}`));
  return fc.oneof(...forms);
}

/** CPU in thousandths (1m to 4 cores) and memory in bytes (1Ki to 2Gi), small enough to schedule on kwok's nodes. */
const cpuMilli = fc.oneof(fc.constantFrom(1, 100, 250, 500, 1000, 1500, 4000), fc.integer({ min: 1, max: 4000 }));
const memoryBytes = fc.oneof(
  fc.constantFrom(1024, 1_000_000, 64 * 1024 ** 2, 128e6, 1024 ** 3, 1.5 * 1024 ** 3, 2 * 1024 ** 3),
  fc.integer({ min: 1, max: 2048 }).map((mi) => mi * 1024 ** 2),
  fc.integer({ min: 1024, max: 2 * 1024 ** 3 }),
);

/** Requests, limits, or both with requests at most limits; each spelled its own way. */
const resources: fc.Arbitrary<MicroserviceSpec['resources']> = fc
  .record({ cpu: fc.tuple(cpuMilli, cpuMilli), memory: fc.tuple(memoryBytes, memoryBytes), shape: fc.nat(3) })
  .chain(({ cpu, memory, shape }) => {
    const [cpuLow, cpuHigh] = [Math.min(...cpu), Math.max(...cpu)];
    const [memLow, memHigh] = [Math.min(...memory), Math.max(...memory)];
    const requests = fc.record({ cpu: spell(cpuLow), memory: spell(memLow * 1000) });
    const limits = fc.record({ cpu: spell(cpuHigh), memory: spell(memHigh * 1000) });
    if (shape === 0) return fc.constant({});
    if (shape === 1) return requests.map((r) => ({ requests: r }));
    if (shape === 2) return limits.map((l) => ({ limits: l }));
    return fc.tuple(requests, limits).map(([r, l]) => ({ requests: r, limits: l }));
  });

/** Go-style durations the CRD's pattern takes, from zero to far past setTimeout's limit. */
const duration = fc.constantFrom(
  '0s',
  '1ms',
  '500ms',
  '0.5s',
  '1s',
  '30s',
  '1m30s',
  '1.5m',
  '1h',
  '1h0m0.001s',
  '999999h',
);
const positiveDuration = fc.constantFrom('1ms', '0.5s', '1s', '30s', '1.5m', '1h', '999999h');

type Step = NonNullable<NonNullable<NonNullable<MicroserviceSpec['release']>['canary']>['steps']>[number];
const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ setWeight: fc.oneof(fc.constantFrom(0, 1, 50, 99, 100), fc.integer({ min: 0, max: 100 })) }),
  fc.constant({ pause: {} }),
  fc.record({ pause: fc.record({ duration }) }),
  fc.record({
    mirror: fc.record({ percent: fc.integer({ min: 1, max: 100 }), duration }, { requiredKeys: ['duration'] }),
  }),
  fc.record({
    match: fc.array(
      fc.oneof(
        fc.record({ headers: fc.constant({ 'x-beta': { exact: 'true' } }) }),
        fc.record({ headers: fc.constant({ 'x-group': { regex: '^(a|b)$' }, 'x-beta': { exact: '1' } }) }),
        fc.record({ cookie: fc.constantFrom({ name: 'beta', value: '1' }, { name: 'beta', value: 'always' }) }),
      ),
      { minLength: 1, maxLength: 8 },
    ),
  }),
);
const steps: fc.Arbitrary<Step[]> = fc.oneof(
  fc.constant<Step[]>([]),
  fc.array(step, { maxLength: 6 }),
  fc.array(step, { minLength: 32, maxLength: 32 }),
);

type Traffic = NonNullable<NonNullable<MicroserviceSpec['release']>['canary']>['traffic'];
/** Every router; the names refer to route objects `fixture` creates in the cluster tier. */
export const traffic = (name: string): fc.Arbitrary<Traffic | undefined> =>
  fc.constantFrom<Traffic | undefined>(
    undefined,
    { router: 'replicas' },
    { router: 'gatewayAPI', gatewayAPI: { httpRoute: `${name}-route` } },
    { router: 'gatewayAPI', gatewayAPI: { parentRefs: [{ name: 'gateway' }], hostnames: ['shop.example.com'] } },
    { router: 'istio', istio: { virtualService: `${name}-vs` } },
    { router: 'nginx', nginx: { ingress: 'ing' } },
  );

type Analysis = NonNullable<NonNullable<MicroserviceSpec['release']>['analysis']>;
type Metric = NonNullable<Analysis['metrics']>[number];
const range = fc
  .tuple(
    fc.option(fc.double({ min: -1e6, max: 1e6, noNaN: true })),
    fc.option(fc.double({ min: -1e6, max: 1e6, noNaN: true })),
  )
  .map(([a, b]) => {
    const [min, max] = a !== null && b !== null ? [Math.min(a, b), Math.max(a, b)] : [a, b];
    return { ...(min !== null ? { min } : {}), ...(max !== null ? { max } : {}) };
  });
const metric: fc.Arbitrary<Omit<Metric, 'name'>> = fc.oneof(
  fc.record({
    template: fc.constantFrom<Metric['template']>('request-success-rate', 'request-duration'),
    thresholdRange: range,
  }),
  fc.record({
    query: fc.constant('sum(rate(http_requests_total{namespace="{{namespace}}"}[{{interval}}]))'),
    thresholdRange: range,
  }),
  fc.record({
    kind: fc.constant<Metric['kind']>('CountComparison'),
    events: fc.constant('sum(increase(errors{track="{{track}}"}[{{window}}]))'),
    total: fc.constant('sum(increase(requests{track="{{track}}"}[{{window}}]))'),
    minTotal: fc.integer({ min: 1, max: 10_000 }),
  }),
  fc.record({
    kind: fc.constant<Metric['kind']>('SeriesComparison'),
    query: fc.constant('latency{track="{{track}}"}'),
    confidence: fc.double({ min: 0.5, max: 0.9999, noNaN: true }),
    direction: fc.constantFrom<Metric['direction']>('Increase', 'Decrease', 'Either'),
  }),
);
const analysis = (fresh: boolean): fc.Arbitrary<Analysis> =>
  fc.record(
    {
      interval: positiveDuration,
      startDelay: duration,
      failureLimit: fc.integer({ min: 1, max: 5 }),
      inconclusiveLimit: fc.integer({ min: 1, max: 5 }),
      onInconclusive: fc.constantFrom<Analysis['onInconclusive']>('Pause', 'Rollback'),
      baseline: fc.record({
        mode: fresh
          ? fc.constantFrom<'Fresh' | 'Stable' | 'None'>('Fresh', 'Stable', 'None')
          : fc.constantFrom<'Fresh' | 'Stable' | 'None'>('Stable', 'None'),
      }),
      alpha: fc.constantFrom(0.0001, 0.05, 0.5),
      prometheus: fc.record({ address: fc.constant('http://127.0.0.1:1'), timeout: positiveDuration }),
      metrics: fc
        .uniqueArray(fc.tuple(labelOfLength(8), metric), { selector: ([n]) => n, maxLength: 3 })
        .map((list) => list.map(([name, m]) => ({ name, ...m }) as Metric)),
    },
    { requiredKeys: [] },
  );

type Release = NonNullable<MicroserviceSpec['release']>;
const release = (name: string): fc.Arbitrary<Release | undefined> =>
  fc.oneof(
    fc.constant(undefined),
    fc.record(
      { strategy: fc.constant<Release['strategy']>('Rolling'), paused: fc.boolean() },
      { requiredKeys: ['strategy'] },
    ),
    traffic(name).chain((routed) => {
      const replicasRouter = !routed || routed.router === 'replicas';
      // The schema takes mirror steps with gatewayAPI and istio, match steps with all but replicas; with no
      // router written out it takes both (the resolved router decides, in status).
      const router = routed?.router;
      const allowed = (list: Step[]) =>
        list.filter(
          (s) =>
            (s.mirror === undefined || router === undefined || router === 'gatewayAPI' || router === 'istio') &&
            (s.match === undefined || router !== 'replicas'),
        );
      const canary = fc.oneof(
        fc.record({ steps: steps.map(allowed) }, { requiredKeys: [] }),
        fc
          .tuple(fc.integer({ min: 1, max: 100 }), fc.integer({ min: 1, max: 100 }), fc.option(positiveDuration))
          .map(([a, b, stepInterval]) => ({
            stepWeight: Math.min(a, b),
            maxWeight: Math.max(a, b),
            ...(stepInterval ? { stepInterval } : {}),
          })),
      );
      return fc.record(
        {
          strategy: fc.constant<Release['strategy']>('Canary'),
          canary: canary.map((settings) => (routed ? { ...settings, traffic: routed } : settings)),
          analysis: analysis(replicasRouter),
          paused: fc.boolean(),
          progressDeadlineSeconds: fc.constantFrom(1, 60, 600, 2_147_483_647),
        },
        { requiredKeys: ['strategy'] },
      );
    }),
    traffic(name).chain((routed) =>
      fc.record(
        {
          strategy: fc.constant<Release['strategy']>('BlueGreen'),
          blueGreen: fc.record(
            {
              autoPromotionSeconds: fc.constantFrom(0, 1, 86400),
              scaleDownDelaySeconds: fc.constantFrom(0, 30, 86400),
              abortScaleDownDelaySeconds: fc.constantFrom(0, 86400),
              previewReplicas: fc.integer({ min: 1, max: 5 }),
              traffic: routed ? fc.constant(routed) : fc.constant(undefined),
            },
            { requiredKeys: [] },
          ),
          analysis: analysis(false),
        },
        { requiredKeys: ['strategy'] },
      ),
    ),
  );

type Probe = NonNullable<NonNullable<MicroserviceSpec['probes']>['readiness']>;
const probe = (names: string[], liveness: boolean): fc.Arbitrary<Probe> => {
  const portRef = fc.oneof(fc.constantFrom<string | number>(...names), portNumber);
  return fc
    .record(
      {
        handler: fc.oneof(
          fc.constant({}),
          fc.record({
            httpGet: fc.record({ path: fc.constantFrom('/', '/healthz'), port: portRef }, { requiredKeys: ['path'] }),
          }),
          fc.record({ tcpSocket: fc.record({ port: portRef }, { requiredKeys: [] }) }),
          fc.record({ grpc: fc.record({ port: portNumber }, { requiredKeys: [] }) }),
          fc.constant({ exec: { command: ['true'] } }),
        ),
        initialDelaySeconds: fc.constantFrom(0, 1, 3600),
        periodSeconds: fc.constantFrom(1, 10),
        timeoutSeconds: fc.constantFrom(1, 5),
        failureThreshold: fc.constantFrom(1, 3),
        successThreshold: liveness ? fc.constant(1) : fc.constantFrom(1, 3),
      },
      { requiredKeys: ['handler'] },
    )
    .map(({ handler, ...rest }) => ({ ...handler, ...rest }) as Probe);
};

const labelValue = fc.oneof(fc.constant(''), labelOfLength(63), fc.constantFrom('a', 'A.b_c-d', '0'));
const labelKey = fc.constantFrom('team', 'example.com/tier', 'app.kubernetes.io/part-of', `${'k'.repeat(63)}`);

export interface GeneratedMicroservice {
  name: string;
  spec: MicroserviceSpec;
  /** For a near-invalid spec, the edge it is past. */
  breaks?: string;
}

/**
 * A Microservice the CRD accepts. `schedulable` leaves out node selectors, which kwok's nodes would not match,
 * so that a Ready outcome is possible in the cluster tier.
 */
export const acceptedMicroservice = (
  options: { maxNameLength?: number; schedulable?: boolean } = {},
): fc.Arbitrary<GeneratedMicroservice> =>
  microserviceName(options.maxNameLength).chain((name) =>
    fc
      .record({
        ports: fc.option(ports, { nil: undefined }),
        env,
        resources: fc.option(resources, { nil: undefined }),
        replicas: fc.option(fc.constantFrom(0, 1, 2, 3), { nil: undefined }),
        autoscaling: fc.option(
          fc
            .tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 100 }))
            .map(([a, b, cpu]) => ({
              minReplicas: Math.min(a, b),
              maxReplicas: Math.max(a, b),
              targetCPUUtilizationPercentage: cpu,
            })),
          { nil: undefined },
        ),
        placement: fc.option(
          fc.record(
            {
              spreadAcrossZones: fc.boolean(),
              spreadAcrossNodes: fc.boolean(),
              nodeSelector: options.schedulable
                ? fc.constant({ type: 'kwok' })
                : fc.dictionary(labelKey, labelValue, { maxKeys: 2 }),
            },
            { requiredKeys: [] },
          ),
          { nil: undefined },
        ),
        disruptionBudget: fc.option(
          fc.oneof(
            fc.record({ maxUnavailable: fc.oneof(fc.constantFrom(0, 1), fc.constantFrom('0%', '50%', '100%')) }),
            fc.record({ minAvailable: fc.oneof(fc.constantFrom(0, 1), fc.constantFrom('0%', '99%')) }),
          ),
          { nil: undefined },
        ),
        service: fc.option(
          fc.record(
            {
              type: fc.constantFrom<'ClusterIP' | 'NodePort' | 'LoadBalancer'>('ClusterIP', 'NodePort', 'LoadBalancer'),
              labels: fc.dictionary(labelKey, labelValue, { maxKeys: 2 }),
              annotations: fc.dictionary(labelKey, fc.string({ maxLength: 200 }), { maxKeys: 2 }),
              // The per-track Services, so their names at the length limit are exercised under any router.
              trackServices: fc.boolean(),
            },
            { requiredKeys: [] },
          ),
          { nil: undefined },
        ),
        podLabels: fc.dictionary(labelKey, labelValue, { maxKeys: 2 }),
        release: release(name),
      })
      .chain((parts) => {
        const names = (parts.ports ?? [{ name: 'http' }]).map((p) => p.name);
        return fc
          .record(
            { readiness: probe(names, false), liveness: probe(names, true), startup: probe(names, true) },
            { requiredKeys: [] },
          )
          .map((probes) => {
            const { podLabels, ...rest } = parts;
            const spec: MicroserviceSpec = { image: 'ghcr.io/example/generated:1.0.0', probes };
            for (const [key, value] of Object.entries(rest))
              if (value !== undefined) Object.assign(spec, { [key]: value });
            if (Object.keys(podLabels).length > 0) spec.podTemplate = { metadata: { labels: podLabels } };
            return { name, spec };
          });
      }),
  );

/**
 * One step past an edge of the schema, or a spec the schema takes that cannot run: each must be refused at
 * admission, or end Stalled with a message that names the field.
 */
export const nearInvalidMicroservice = (options: { schedulable?: boolean } = {}): fc.Arbitrary<GeneratedMicroservice> =>
  fc
    .tuple(acceptedMicroservice({ ...options, maxNameLength: 40 }), fc.nat(NEAR_INVALID.length - 1))
    .map(([generated, index]) => {
      const [breaks, mutate] = NEAR_INVALID[index]!;
      const copy = structuredClone(generated);
      mutate(copy);
      return { ...copy, breaks };
    });

const canaryOf = (spec: MicroserviceSpec) => {
  spec.release = { strategy: 'Canary' };
  return spec.release;
};

/** What each mutation breaks; the cluster test prints the name with its outcome. */
export const NEAR_INVALID: [string, (generated: GeneratedMicroservice) => void][] = [
  ['a name one past the limit', (g) => (g.name = `${g.name}${'a'.repeat(NAME_LIMIT + 1 - g.name.length)}`)],
  ['a port name of digits', ({ spec }) => ((spec.ports = [{ name: '8080', containerPort: 8080 }]), delete spec.probes)],
  ['a port name with --', ({ spec }) => ((spec.ports = [{ name: 'a--b', containerPort: 8080 }]), delete spec.probes)],
  ['an env name with =', ({ spec }) => (spec.env = [{ name: 'A=B', value: '1' }])],
  ['a negative quantity', ({ spec }) => (spec.resources = { requests: { cpu: '-100m' } })],
  ['a fractional exponent', ({ spec }) => (spec.resources = { limits: { memory: '1e1.5' } })],
  ['requests above limits', ({ spec }) => (spec.resources = { requests: { cpu: '2' }, limits: { cpu: '1' } })],
  ['an analysis interval of 0s', ({ spec }) => (canaryOf(spec).analysis = { interval: '0s' })],
  [
    'a thresholdRange with min above max',
    ({ spec }) =>
      (canaryOf(spec).analysis = {
        prometheus: { address: 'http://127.0.0.1:1' },
        metrics: [{ name: 'rate', template: 'request-success-rate', thresholdRange: { min: 2, max: 1 } }],
      }),
  ],
  ['a weight of 101', ({ spec }) => (canaryOf(spec).canary = { steps: [{ setWeight: 101 }] })],
  [
    'a mirror step on nginx',
    ({ spec }) =>
      (canaryOf(spec).canary = {
        traffic: { router: 'nginx', nginx: { ingress: 'ing' } },
        steps: [{ mirror: { duration: '1m' } }],
      }),
  ],
  [
    'a match step on the replicas router',
    ({ spec }) =>
      (canaryOf(spec).canary = {
        traffic: { router: 'replicas' },
        steps: [{ match: [{ headers: { 'x-beta': { exact: 'true' } } }] }],
      }),
  ],
  [
    'the parallel-run template without a mirror step',
    ({ spec }) =>
      (canaryOf(spec).analysis = {
        metrics: [{ name: 'same', template: 'parallel-run-mismatch-rate', thresholdRange: { max: 1 } }],
      }),
  ],
  ['stepWeight above maxWeight', ({ spec }) => (canaryOf(spec).canary = { stepWeight: 50, maxWeight: 10 })],
  ['weights that go down', ({ spec }) => (canaryOf(spec).canary = { steps: [{ setWeight: 50 }, { setWeight: 10 }] })],
  ['a probe naming no port', ({ spec }) => (spec.probes = { readiness: { tcpSocket: { port: 'nope' } } })],
  [
    'a toleration with an unknown operator',
    ({ spec }) => (spec.placement = { tolerations: [{ key: 'k', operator: 'Maybe' }] }),
  ],
  ['a missing ConfigMap', ({ spec }) => (spec.envFrom = [{ configMapRef: { name: 'missing' } }])],
  [
    'a named HTTPRoute that does not exist',
    ({ spec }) =>
      (canaryOf(spec).canary = { traffic: { router: 'gatewayAPI', gatewayAPI: { httpRoute: 'no-such-route' } } }),
  ],
];

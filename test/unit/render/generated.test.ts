// Property tests over generated Microservices the CRD accepts (test/generated/microservice-specs.ts): rendering
// never throws, and every object it renders passes the API server's own checks on names, labels, port names,
// env names and quantities. The seed is printed with the failing spec; MSOP_PROPERTY_SEED replays it and
// MSOP_PROPERTY_RUNS sets how many specs are tried.
import type { KubernetesObject, V1Container, V1Ingress, V1PodTemplateSpec, V1Service } from '@kubernetes/client-node';
import fc from 'fast-check';
import type { Microservice } from '../../../src/api/types';
import { AnalysisConfigError } from '../../../src/analysis/errors';
import { resolveAnalysis } from '../../../src/analysis/settings';
import {
  renderBaselineReplicaSet,
  renderCanaryReplicaSet,
  renderChildren,
  renderPreviewReplicaSet,
  trafficOf,
} from '../../../src/render';
import { canonicalQuantity, compareQuantities } from '../../../src/render/quantity';
import { releaseSteps, StepsError } from '../../../src/rollout/steps';
import { isGeneratedRoute, renderHTTPRoute } from '../../../src/traffic/gateway-api';
import { renderCanaryIngress } from '../../../src/traffic/nginx';
import { acceptedMicroservice, type GeneratedMicroservice } from '../../generated/microservice-specs';
import { defaults, noTracked } from './fixtures';

const RUNS = Number(process.env.MSOP_PROPERTY_RUNS ?? 300);
const SEED = process.env.MSOP_PROPERTY_SEED ? Number(process.env.MSOP_PROPERTY_SEED) : undefined;

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

/** The API server's checks (k8s.io/apimachinery validation) that a rendered object could fail. */
function problemsOf(object: KubernetesObject): string[] {
  const problems: string[] = [];
  const where = `${object.kind}/${object.metadata?.name}`;
  const check = (ok: boolean, what: string) => {
    if (!ok) problems.push(`${where}: ${what}`);
  };
  const name = object.metadata?.name ?? '';
  if (object.kind === 'Service')
    check(name.length <= 63 && DNS1035_LABEL.test(name), `name "${name}" is no DNS-1035 label`);
  else check(name.length <= 253 && DNS1123_SUBDOMAIN.test(name), `name "${name}" is no DNS-1123 subdomain`);
  const labels = (what: string, map: Record<string, string> | undefined) => {
    for (const [key, value] of Object.entries(map ?? {})) {
      check(qualifiedName(key), `${what} key "${key}"`);
      check(value.length <= 63 && LABEL_VALUE.test(value), `${what} value "${value}" of ${key}`);
    }
  };
  const annotations = (what: string, map: Record<string, string> | undefined) => {
    for (const key of Object.keys(map ?? {})) check(qualifiedName(key), `${what} key "${key}"`);
  };
  labels('label', object.metadata?.labels);
  annotations('annotation', object.metadata?.annotations);
  const spec = (object as { spec?: Record<string, unknown> }).spec ?? {};
  labels('selector', (spec.selector as { matchLabels?: Record<string, string> } | undefined)?.matchLabels);
  if (object.kind === 'Service') labels('selector', spec.selector as Record<string, string> | undefined);
  const template = spec.template as V1PodTemplateSpec | undefined;
  if (template) {
    labels('pod label', template.metadata?.labels);
    annotations('pod annotation', template.metadata?.annotations);
    labels('nodeSelector', template.spec?.nodeSelector);
    for (const container of template.spec?.containers ?? []) problems.push(...containerProblems(where, container));
  }
  if (object.kind === 'Service') {
    const ports = (object as V1Service).spec?.ports ?? [];
    for (const port of ports) {
      check(
        port.name !== undefined && port.name.length <= 63 && DNS1123_LABEL.test(port.name),
        `port name ${port.name}`,
      );
      if (typeof port.targetPort === 'string') check(ianaServiceName(port.targetPort), `targetPort ${port.targetPort}`);
    }
    check(new Set(ports.map((p) => p.name)).size === ports.length, 'port names are not unique');
  }
  return problems;
}

function containerProblems(where: string, container: V1Container): string[] {
  const problems: string[] = [];
  for (const port of container.ports ?? [])
    if (port.name !== undefined && !ianaServiceName(port.name))
      problems.push(`${where}: container port name ${port.name}`);
  for (const env of container.env ?? [])
    if (!/^[ -<>-~]+$/.test(env.name)) problems.push(`${where}: env name ${JSON.stringify(env.name)}`);
  for (const probe of [container.readinessProbe, container.livenessProbe, container.startupProbe]) {
    const port = probe?.httpGet?.port ?? probe?.tcpSocket?.port;
    if (typeof port === 'string' && !(container.ports ?? []).some((p) => p.name === port))
      problems.push(`${where}: probe port ${port} names no container port`);
  }
  const { requests = {}, limits = {} } = container.resources ?? {};
  for (const [resource, value] of [...Object.entries(requests), ...Object.entries(limits)]) {
    if (canonicalQuantity(value) !== value) problems.push(`${where}: ${resource} ${value} is not in canonical form`);
  }
  for (const [resource, request] of Object.entries(requests)) {
    const limit = limits[resource];
    if (limit !== undefined && compareQuantities(request, limit) > 0)
      problems.push(`${where}: ${resource} request ${request} is above its limit ${limit}`);
  }
  return problems;
}

const ianaServiceName = (name: string): boolean =>
  name.length <= 15 && /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(name) && /[a-z]/.test(name) && !name.includes('--');

function qualifiedName(key: string): boolean {
  const [prefix, name] = key.includes('/')
    ? [key.slice(0, key.lastIndexOf('/')), key.slice(key.lastIndexOf('/') + 1)]
    : ['', key];
  const prefixOk = prefix === '' || (prefix.length <= 253 && DNS1123_SUBDOMAIN.test(prefix));
  return prefixOk && name.length <= 63 && QUALIFIED_NAME.test(name);
}

const asMicroservice = ({ name, spec }: GeneratedMicroservice): Microservice => ({
  apiVersion: 'msop.dev/v1alpha1',
  kind: 'Microservice',
  metadata: { name, namespace: 'generated', uid: 'uid-generated', generation: 1 },
  spec,
});

/** The user's Ingress the nginx router copies, sending to the apex Service. */
const userIngress = (microservice: Microservice): V1Ingress => ({
  metadata: { name: trafficOf(microservice.spec)?.nginx?.ingress ?? 'ing', namespace: 'generated' },
  spec: {
    rules: [
      {
        http: {
          paths: [
            {
              path: '/',
              pathType: 'Prefix',
              backend: { service: { name: microservice.metadata.name!, port: { number: 80 } } },
            },
          ],
        },
      },
    ],
  },
});

/** Everything msop can render for one Microservice: its children, the release ReplicaSets and the route objects. */
function everythingRendered(microservice: Microservice): KubernetesObject[] {
  const rendered = renderChildren({ microservice, tracked: noTracked, defaults });
  const revision = 'ffffffff';
  const objects: (KubernetesObject | undefined)[] = [
    ...rendered.objects,
    renderCanaryReplicaSet(microservice, rendered.template, revision, 1),
    renderBaselineReplicaSet(microservice, rendered.template, revision, 1),
    renderPreviewReplicaSet(microservice, rendered.template, revision, 1),
  ];
  if (isGeneratedRoute(microservice)) objects.push(renderHTTPRoute(microservice, { weight: 50, matches: [] }));
  if (trafficOf(microservice.spec)?.router === 'nginx')
    objects.push(renderCanaryIngress(microservice, userIngress(microservice), { weight: 50, matches: [] }));
  return objects.filter((object) => object !== undefined);
}

test('every rendered object of an accepted Microservice passes the API server checks', () => {
  fc.assert(
    fc.property(acceptedMicroservice(), (generated) => {
      const microservice = asMicroservice(generated);
      expect(everythingRendered(microservice).flatMap(problemsOf)).toEqual([]);
    }),
    { numRuns: RUNS, seed: SEED, verbose: 1 },
  );
});

test('the release settings of an accepted Microservice resolve, or fail with an error that names the field', () => {
  fc.assert(
    fc.property(acceptedMicroservice(), ({ spec }) => {
      try {
        releaseSteps(spec.release?.canary);
      } catch (err) {
        expect(err).toBeInstanceOf(StepsError);
        expect((err as Error).message).toMatch(/^release\.canary\./);
      }
      if (!spec.release?.analysis) return;
      try {
        resolveAnalysis(spec.release.analysis);
      } catch (err) {
        expect(err).toBeInstanceOf(AnalysisConfigError);
        expect((err as Error).message).toMatch(/^release\.analysis is invalid: /);
      }
    }),
    { numRuns: RUNS, seed: SEED, verbose: 1 },
  );
});

test('rendering is deterministic: the same spec renders the same bytes', () => {
  fc.assert(
    fc.property(acceptedMicroservice(), (generated) => {
      expect(JSON.stringify(everythingRendered(asMicroservice(generated)))).toBe(
        JSON.stringify(everythingRendered(asMicroservice(structuredClone(generated)))),
      );
    }),
    { numRuns: Math.ceil(RUNS / 3), seed: SEED },
  );
});

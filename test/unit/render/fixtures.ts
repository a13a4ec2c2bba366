import type { KubernetesObject, V1Container, V1Deployment, V1PodTemplateSpec } from '@kubernetes/client-node';
import type { Microservice, MicroserviceSpec } from '../../../src/api/types';
import { renderChildren, type RenderDefaults, type RenderedChildren, type TrackedContent } from '../../../src/render';

export const defaults: RenderDefaults = {
  resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
};

export const noTracked: TrackedContent = { configMaps: {}, secrets: {} };

export function microservice(spec: Partial<MicroserviceSpec> = {}): Microservice {
  return {
    apiVersion: 'msop.dev/v1alpha1',
    kind: 'Microservice',
    metadata: { name: 'orders', namespace: 'shop', uid: 'uid-1234', generation: 1, resourceVersion: '100' },
    spec: { image: 'registry.example.com/shop/orders:1.4.2', ...spec },
  };
}

export function render(spec: Partial<MicroserviceSpec> = {}, tracked: TrackedContent = noTracked): RenderedChildren {
  return renderChildren({ microservice: microservice(spec), tracked, defaults });
}

/** The rendered object of a kind and name, typed as the caller expects. */
export function find<T extends KubernetesObject>(children: RenderedChildren, kind: string, name = 'orders'): T {
  const found = children.objects.find((object) => object.kind === kind && object.metadata?.name === name);
  if (!found) throw new Error(`no ${kind} ${name} rendered`);
  return found as T;
}

export function kindsAndNames(children: RenderedChildren): string[] {
  return children.objects.map((object) => `${object.kind}/${object.metadata?.name}`);
}

/** The pod template of the rendered Deployment. */
export function templateOf(spec: Partial<MicroserviceSpec> = {}): V1PodTemplateSpec {
  return find<V1Deployment>(render(spec), 'Deployment').spec!.template;
}

/** The rendered app container. */
export function appOf(spec: Partial<MicroserviceSpec> = {}): V1Container {
  return templateOf(spec).spec!.containers.find((container) => container.name === 'app')!;
}

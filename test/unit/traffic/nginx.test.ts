import type { V1HTTPIngressPath, V1Ingress, V1IngressServiceBackend } from '@kubernetes/client-node';
import {
  CANARY_ANNOTATION,
  canaryIngressName,
  renderCanaryIngress,
  WEIGHT_ANNOTATION,
} from '../../../src/traffic/nginx';
import { microservice, OWNER_REFERENCE } from './fixtures';

const ORDERS = microservice();
/** A route with weights only. */
const w = (weight: number) => ({ weight, matches: [] });

const path = (
  p: string,
  service: string,
  port: V1IngressServiceBackend['port'],
  pathType = 'Prefix',
): V1HTTPIngressPath => ({ path: p, pathType, backend: { service: { name: service, port } } });

function ingress(spec: V1Ingress['spec']): V1Ingress {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: {
      name: 'public',
      namespace: 'shop',
      uid: 'ingress-uid',
      annotations: {
        'cert-manager.io/cluster-issuer': 'letsencrypt',
        'nginx.ingress.kubernetes.io/proxy-body-size': '8m',
      },
    },
    spec,
  };
}

const USER = ingress({
  ingressClassName: 'nginx',
  tls: [{ hosts: ['shop.example.com'], secretName: 'shop-tls' }],
  defaultBackend: { service: { name: 'orders', port: { number: 80 } } },
  rules: [
    {
      host: 'shop.example.com',
      http: {
        paths: [
          path('/orders', 'orders', { number: 80 }),
          path('/api/orders', 'orders-stable', { name: 'http' }),
          path('/payments', 'payments', { number: 80 }),
          {
            path: '/static',
            pathType: 'Prefix',
            backend: { resource: { apiGroup: 'storage.example.com', kind: 'Bucket', name: 'orders' } },
          },
        ],
      },
    },
    { host: 'admin.example.com', http: { paths: [path('/', 'admin', { number: 80 })] } },
    { http: { paths: [path('/orders', 'orders-stable', { number: 80 }, 'Exact')] } },
  ],
});

describe('renderCanaryIngress', () => {
  test('the canary Ingress: paths to <name> or <name>-stable go to <name>-canary, others are dropped', () => {
    const canary = renderCanaryIngress(ORDERS, USER, w(25))!;
    expect(canary.apiVersion).toBe('networking.k8s.io/v1');
    expect(canary.kind).toBe('Ingress');
    expect(canary.metadata!.name).toBe('public-orders-canary');
    expect(canary.metadata!.namespace).toBe('shop');
    expect(canary.metadata!.ownerReferences).toEqual([OWNER_REFERENCE]);
    expect(canary.metadata!.labels!['msop.dev/microservice']).toBe('orders');
    // Only msop's annotations: the user's (TLS issuer, body size) stay on the user's Ingress.
    expect(canary.metadata!.annotations).toEqual({
      'nginx.ingress.kubernetes.io/canary': 'true',
      'nginx.ingress.kubernetes.io/canary-weight': '25',
    });
    expect(canary.spec).toEqual({
      ingressClassName: 'nginx',
      rules: [
        {
          host: 'shop.example.com',
          http: {
            paths: [
              path('/orders', 'orders-canary', { number: 80 }),
              path('/api/orders', 'orders-canary', { name: 'http' }),
            ],
          },
        },
        { http: { paths: [path('/orders', 'orders-canary', { number: 80 }, 'Exact')] } },
      ],
    });
  });

  test.each<[number, string]>([
    [0, '0'],
    [1, '1'],
    [50, '50'],
    [100, '100'],
  ])('weight %d is the annotation %j', (weight, annotation) => {
    const canary = renderCanaryIngress(ORDERS, USER, w(weight))!;
    expect(canary.metadata!.annotations![WEIGHT_ANNOTATION]).toBe(annotation);
    expect(canary.metadata!.annotations![CANARY_ANNOTATION]).toBe('true');
  });

  test('without an ingressClassName there is none on the canary', () => {
    const canary = renderCanaryIngress(
      ORDERS,
      ingress({ rules: [{ http: { paths: [path('/', 'orders', { number: 80 })] } }] }),
      w(10),
    )!;
    expect(canary.spec).toEqual({ rules: [{ http: { paths: [path('/', 'orders-canary', { number: 80 })] } }] });
  });

  test.each<[string, V1Ingress['spec']]>([
    [
      'no path sends to orders',
      {
        ingressClassName: 'nginx',
        rules: [{ host: 'a.example.com', http: { paths: [path('/', 'payments', { number: 80 })] } }],
      },
    ],
    [
      'a canary path only (not ours to copy)',
      { rules: [{ http: { paths: [path('/', 'orders-canary', { number: 80 })] } }] },
    ],
    [
      'a resource backend named orders',
      {
        rules: [
          {
            http: {
              paths: [
                {
                  path: '/',
                  pathType: 'Prefix',
                  backend: { resource: { apiGroup: 'x.example.com', kind: 'Bucket', name: 'orders' } },
                },
              ],
            },
          },
        ],
      },
    ],
    ['only a defaultBackend', { defaultBackend: { service: { name: 'orders', port: { number: 80 } } } }],
    ['a rule without http', { rules: [{ host: 'a.example.com' }] }],
    ['no rules', {}],
    ['no spec', undefined],
  ])('%s: undefined', (_name, spec) => {
    expect(renderCanaryIngress(ORDERS, ingress(spec), w(20))).toBeUndefined();
  });

  test('does not change the user’s Ingress', () => {
    const before = structuredClone(USER);
    renderCanaryIngress(ORDERS, USER, w(40));
    expect(USER).toEqual(before);
  });

  test('canaryIngressName', () => {
    expect(canaryIngressName('public', 'orders')).toBe('public-orders-canary');
  });
});

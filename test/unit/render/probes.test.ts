import type { V1Probe } from '@kubernetes/client-node';
import type { Probe } from '../../../src/api/types';
import { toProbe } from '../../../src/render/probes';
import { appOf } from './fixtures';

describe('probe shorthand', () => {
  test.each<[string, Probe, V1Probe]>([
    ['httpGet on the primary port', { httpGet: { path: '/healthz' } }, { httpGet: { path: '/healthz', port: 8080 } }],
    [
      'httpGet with a named port and scheme',
      { httpGet: { path: '/healthz', port: 'admin', scheme: 'HTTPS' } },
      { httpGet: { path: '/healthz', port: 'admin', scheme: 'HTTPS' } },
    ],
    ['tcpSocket on the primary port', { tcpSocket: {} }, { tcpSocket: { port: 8080 } }],
    ['tcpSocket on a given port', { tcpSocket: { port: 9000 } }, { tcpSocket: { port: 9000 } }],
    ['grpc on the primary port', { grpc: { service: 'health' } }, { grpc: { port: 8080, service: 'health' } }],
    ['exec', { exec: { command: ['/bin/check'] } }, { exec: { command: ['/bin/check'] } }],
    ['timing only, on the primary port', { periodSeconds: 5 }, { tcpSocket: { port: 8080 }, periodSeconds: 5 }],
    [
      'every timing field',
      {
        httpGet: { path: '/' },
        initialDelaySeconds: 1,
        periodSeconds: 2,
        timeoutSeconds: 3,
        failureThreshold: 4,
        successThreshold: 5,
      },
      {
        httpGet: { path: '/', port: 8080 },
        initialDelaySeconds: 1,
        periodSeconds: 2,
        timeoutSeconds: 3,
        failureThreshold: 4,
        successThreshold: 5,
      },
    ],
  ])('maps %s', (_name, probe, expected) => {
    expect(toProbe(probe, 8080)).toEqual(expected);
  });
});

describe('container probes', () => {
  test('default to a TCP readiness probe on the primary port and nothing else', () => {
    const app = appOf({ ports: [{ name: 'web', containerPort: 3000 }] });
    expect(app.readinessProbe).toEqual({ tcpSocket: { port: 3000 } });
    expect(app).not.toHaveProperty('livenessProbe');
    expect(app).not.toHaveProperty('startupProbe');
  });

  test('map readiness, liveness and startup', () => {
    const app = appOf({
      probes: {
        readiness: { httpGet: { path: '/healthz' } },
        liveness: { httpGet: { path: '/livez' }, failureThreshold: 3 },
        startup: { tcpSocket: {}, periodSeconds: 1 },
      },
    });
    expect(app.readinessProbe).toEqual({ httpGet: { path: '/healthz', port: 8080 } });
    expect(app.livenessProbe).toEqual({ httpGet: { path: '/livez', port: 8080 }, failureThreshold: 3 });
    expect(app.startupProbe).toEqual({ tcpSocket: { port: 8080 }, periodSeconds: 1 });
  });
});

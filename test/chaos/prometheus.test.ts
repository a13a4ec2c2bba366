// Prometheus trouble mid-analysis, with the end-to-end tier's real Prometheus, simulated app versions and
// traffic (test/e2e/scenario.ts): Prometheus SIGKILLed and started again, and Prometheus answering slower
// than the analysis timeout (a loopback proxy that delays). Missing data is never a pass: nothing is
// promoted while it lasts, onInconclusive applies, and the release recovers once Prometheus is back.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Microservice } from '../../src/api/types';
import { client, condition } from '../cluster/harness';
import { ReleaseRecorder } from '../cluster/release-recorder';
import { analysis, e2eScenario } from '../e2e/scenario';
import { sleep } from './chaos';

const { ns, prometheus, serving, release, until } = e2eScenario('chaos-prom');
const steps = [{ setWeight: 25 }, { pause: { duration: '3s' } }, { setWeight: 50 }, { pause: { duration: '3s' } }];

/** Forwards to Prometheus after delayMs: a Prometheus that answers slowly. */
class DelayingProxy {
  delayMs = 0;
  url = '';
  private server?: Server;

  async start(target: string): Promise<void> {
    this.server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        void (async () => {
          await sleep(this.delayMs);
          try {
            const answer = await fetch(`${target}${req.url}`, {
              method: req.method,
              headers: { 'content-type': req.headers['content-type'] ?? 'application/x-www-form-urlencoded' },
              body: req.method === 'GET' ? undefined : Buffer.concat(chunks),
            });
            const body = await answer.text();
            if (res.destroyed) return;
            res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' });
            res.end(body);
          } catch {
            if (!res.destroyed) res.destroy();
          }
        })();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

const promoted = (before: Microservice) => (ms: Microservice) =>
  ms.status?.phase === 'Ready' &&
  ms.status.stableRevision !== before.status?.stableRevision &&
  ms.status.observedGeneration === ms.metadata.generation;

/** The Microservice as the recorder saw it between two moments. */
const statusesBetween = (recorder: ReleaseRecorder, from: number, to: number) =>
  recorder.events
    .filter((e) => e.kind === 'Microservice' && e.seenAt >= from && e.seenAt <= to)
    .map((e) => e.object as Microservice);

test('Prometheus SIGKILLed mid-analysis: no promotion while it is down, onInconclusive Pause, promotion once it is back', async () => {
  const { before } = await serving('crashed', {
    release: { strategy: 'Canary', canary: { steps }, analysis: analysis() },
  });
  const recorder = new ReleaseRecorder(ns.name, 'crashed', []);
  await recorder.start();
  await release('crashed', '2.0.0');
  const atKill = await until('crashed', 'the first step to pass', (ms) => (ms.status?.currentStep ?? 0) >= 1);
  await prometheus().stop('SIGKILL');
  const down = Date.now();
  let up: number;
  try {
    const paused = await until('crashed', 'onInconclusive Pause', (ms) => ms.status?.phase === 'Paused');
    expect(paused.status?.message).toMatch(/analysis inconclusive/);
    // Missing data is not a failure.
    expect(paused.status?.analysis?.failures ?? 0).toBe(atKill.status?.analysis?.failures ?? 0);
    const checked = paused.status?.analysis?.lastCheckTime;
    await until(
      'crashed',
      'another check while Prometheus is down',
      (ms) => ms.status?.analysis?.lastCheckTime !== checked,
      30_000,
    );
  } finally {
    await prometheus().start();
    up = Date.now();
  }
  const after = await until('crashed', 'promotion once Prometheus is back', promoted(before), 120_000);
  console.log(
    `Prometheus SIGKILLed at step ${atKill.status?.currentStep}, down ${((up - down) / 1000).toFixed(1)} s; ` +
      `promoted ${((Date.now() - up) / 1000).toFixed(1)} s after it was back`,
  );
  expect(after.spec.image).toBe('registry.example/sim:2.0.0');
  await recorder.stop();
  expect(recorder.violations()).toEqual([]);
  // While it was down: the stable untouched, and no step beyond the one a check just before had passed.
  const whileDown = statusesBetween(recorder, down, up);
  expect(whileDown.length).toBeGreaterThan(0);
  for (const ms of whileDown) {
    expect(ms.status?.stableRevision).toBe(before.status?.stableRevision);
    expect(ms.status?.currentStep ?? 0).toBeLessThanOrEqual((atKill.status?.currentStep ?? 0) + 1);
  }
});

test('Prometheus slower than the analysis timeout: no step passes, onInconclusive Rollback, and a retry promotes once it is fast', async () => {
  const proxy = new DelayingProxy();
  await proxy.start(prometheus().address);
  proxy.delayMs = 3_000;
  try {
    const { before } = await serving('slowprom', {
      release: {
        strategy: 'Canary',
        canary: { steps },
        analysis: analysis({ onInconclusive: 'Rollback', prometheus: { address: proxy.url, timeout: '1s' } }),
      },
    });
    const recorder = new ReleaseRecorder(ns.name, 'slowprom', []);
    await recorder.start();
    const started = Date.now();
    await release('slowprom', '2.0.0');
    const rolledBack = await until('slowprom', 'onInconclusive Rollback', (ms) => ms.status?.phase === 'RolledBack');
    const rolledAt = Date.now();
    expect(condition(rolledBack, 'Released')?.status).toBe('False');
    expect(rolledBack.status?.message).toMatch(/no answer within 1s/);
    expect(rolledBack.status?.stableRevision).toBe(before.status?.stableRevision);
    for (const ms of statusesBetween(recorder, started, rolledAt)) {
      expect(ms.status?.stableRevision).toBe(before.status?.stableRevision);
      expect(ms.status?.currentStep ?? 0).toBe(0);
    }

    proxy.delayMs = 0;
    await client.mergePatch('msop.dev/v1alpha1', 'Microservice', ns.name, 'slowprom', {
      metadata: { annotations: { 'msop.dev/action': 'retry' } },
    });
    const after = await until('slowprom', 'promotion of the retry once Prometheus is fast', promoted(before), 120_000);
    expect(after.spec.image).toBe('registry.example/sim:2.0.0');
    await recorder.stop();
    expect(recorder.violations()).toEqual([]);
  } finally {
    await proxy.stop();
  }
});

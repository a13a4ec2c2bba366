// The command runner against a fake API: what it sends, what it prints, its exit codes.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Microservice } from '../../../src/api/types';
import { USAGE } from '../../../src/cli/args';
import { type CliDeps, kubeApi, type MicroserviceApi, runCli } from '../../../src/cli/kubectl-msop';
import { renderStatus } from '../../../src/cli/status-view';
import { KubeClient, type WatchEvent } from '../../../src/kube/client';
import { ApiError } from '../../../src/kube/errors';
import { NOW, atStep2, manualGate, ready } from './fixtures';

type Session = (onEvent: (event: WatchEvent<Microservice>) => void, signal: AbortSignal) => Promise<void>;

class FakeApi implements MicroserviceApi {
  patches: { namespace: string; name: string; patch: unknown }[] = [];
  watches: Record<string, unknown>[] = [];
  gets = 0;
  constructor(
    public objects: Record<string, Microservice>,
    private sessions: Session[] = [],
  ) {}

  async get(namespace: string, name: string): Promise<Microservice> {
    this.gets++;
    const ms = this.objects[`${namespace}/${name}`];
    if (!ms) throw notFound(name);
    return structuredClone(ms);
  }

  async mergePatch(namespace: string, name: string, patch: unknown): Promise<Microservice> {
    const ms = await this.get(namespace, name);
    this.patches.push({ namespace, name, patch });
    return ms;
  }

  async watch(
    _namespace: string,
    query: Record<string, unknown>,
    onEvent: (event: WatchEvent<Microservice>) => void,
    signal: AbortSignal,
  ): Promise<void> {
    this.watches.push(query);
    const session = this.sessions.shift();
    if (session) return session(onEvent, signal);
    // Nothing more to say: hold the stream open until aborted, as a quiet API server does.
    await new Promise((_resolve, reject) =>
      signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError'))),
    );
  }
}

const notFound = (name: string) =>
  new ApiError(
    404,
    'NotFound',
    `GET /apis/msop.dev/v1alpha1/namespaces/shop/microservices/${name}: microservices.msop.dev "${name}" not found`,
  );

const withRv = (ms: Microservice, resourceVersion: string): Microservice => ({
  ...ms,
  metadata: { ...ms.metadata, resourceVersion },
});

function harness(api: MicroserviceApi, options: { tty?: boolean; interrupt?: AbortController } = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const interrupt = options.interrupt ?? new AbortController();
  const deps: CliDeps = {
    stdout: { write: (t: string) => out.push(t), isTTY: options.tty },
    stderr: { write: (t: string) => err.push(t) },
    connect: (args) => ({ api, namespace: args.namespace ?? 'shop' }),
    now: () => NOW,
    interrupted: interrupt.signal,
  };
  return {
    run: (...argv: string[]) => runCli(argv, deps),
    stdout: () => out.join(''),
    stderr: () => err.join(''),
  };
}

const canaryInRelease = { 'shop/orders': atStep2 };

describe('kubectl msop actions', () => {
  test.each(['promote', 'abort', 'skip-analysis'])('%s sets msop.dev/action', async (action) => {
    const api = new FakeApi(canaryInRelease);
    const h = harness(api);
    expect(await h.run(action, 'orders')).toBe(0);
    expect(api.patches).toEqual([
      { namespace: 'shop', name: 'orders', patch: { metadata: { annotations: { 'msop.dev/action': action } } } },
    ]);
    expect(h.stdout()).toBe(`microservice/orders: ${action} requested\n`);
    expect(h.stderr()).toBe('');
  });

  test('promote --full sets msop.dev/action: promote-full', async () => {
    const api = new FakeApi(canaryInRelease);
    const h = harness(api);
    expect(await h.run('promote', 'orders', '--full')).toBe(0);
    expect(api.patches[0]!.patch).toEqual({ metadata: { annotations: { 'msop.dev/action': 'promote-full' } } });
    expect(h.stdout()).toBe('microservice/orders: promote-full requested\n');
  });

  test('retry sets msop.dev/action: retry', async () => {
    const api = new FakeApi({
      'shop/orders': { ...ready, spec: { ...atStep2.spec }, status: { failedRevision: 'x' } },
    });
    const h = harness(api);
    expect(await h.run('retry', 'orders')).toBe(0);
    expect(api.patches[0]!.patch).toEqual({ metadata: { annotations: { 'msop.dev/action': 'retry' } } });
    expect(h.stdout()).toBe('microservice/orders: retry requested\n');
    expect(h.stderr()).toBe('');
  });

  test.each<[string, string, Microservice, string]>([
    ['promote', 'Rolling', ready, 'orders uses the Rolling strategy; promote acts on Canary and BlueGreen releases'],
    [
      'abort',
      'Canary, no release',
      { ...atStep2, status: { phase: 'Ready' } },
      'orders shows no release in progress (status.canaryRevision is empty); abort acts on one',
    ],
    [
      'retry',
      'Canary, nothing rolled back',
      atStep2,
      'orders shows no rolled-back revision (status.failedRevision is empty); retry acts on one',
    ],
  ])('%s on %s: still sent, with a note on stderr', async (action, _title, ms, note) => {
    const api = new FakeApi({ 'shop/orders': ms });
    const h = harness(api);
    expect(await h.run(action, 'orders')).toBe(0);
    expect(api.patches).toHaveLength(1);
    expect(h.stdout()).toBe(`microservice/orders: ${action} requested\n`);
    expect(h.stderr()).toBe(`Note: ${note}\n`);
  });

  test.each<[string, boolean, string]>([
    ['pause', true, 'microservice/orders: paused\n'],
    ['resume', false, 'microservice/orders: resumed\n'],
  ])('%s sets spec.release.paused', async (command, paused, output) => {
    const api = new FakeApi(canaryInRelease);
    const h = harness(api);
    expect(await h.run(command, 'orders', '-n', 'shop')).toBe(0);
    expect(api.patches).toEqual([{ namespace: 'shop', name: 'orders', patch: { spec: { release: { paused } } } }]);
    expect(h.stdout()).toBe(output);
  });

  test('the namespace comes from -n', async () => {
    const api = new FakeApi({ 'payments/orders': atStep2 });
    const h = harness(api);
    expect(await h.run('promote', '--namespace=payments', 'orders')).toBe(0);
    expect(api.patches[0]!.namespace).toBe('payments');
  });
});

describe('kubectl msop errors', () => {
  test.each([
    ['promote', 'nope'],
    ['pause', 'nope'],
    ['status', 'nope'],
    ['status', 'nope', '--watch'],
  ])('%s of a missing Microservice: exit 1 with a clear message', async (...argv) => {
    const h = harness(new FakeApi({}));
    expect(await h.run(...argv)).toBe(1);
    expect(h.stderr()).toBe('Error: microservice "nope" not found in namespace "shop"\n');
    expect(h.stdout()).toBe('');
  });

  test('the CRD not installed', async () => {
    const api = new FakeApi({});
    api.get = async () => {
      throw new ApiError(
        404,
        'NotFound',
        'GET /apis/msop.dev/v1alpha1/...: the server could not find the requested resource',
      );
    };
    const h = harness(api);
    expect(await h.run('status', 'orders')).toBe(1);
    expect(h.stderr()).toMatch(
      /^Error: the Microservice API \(microservices\.msop\.dev\) is not installed in this cluster/,
    );
  });

  test('an unreachable API server', async () => {
    // A real client to a loopback port nothing listens on: the error is the one users would see.
    const server = await new Promise<Server>((resolve) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => resolve(s));
    });
    const port = (server.address() as AddressInfo).port;
    await new Promise((resolve) => server.close(resolve));
    const client = new KubeClient({
      name: 'test',
      cluster: { server: `http://127.0.0.1:${port}`, insecureSkipTLSVerify: false },
      user: {},
    });
    const h = harness(kubeApi(client));
    expect(await h.run('abort', 'orders')).toBe(1);
    expect(h.stderr()).toBe(
      `Error: cannot reach the API server at 127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}\n`,
    );
  });

  test.each([[['frob', 'orders']], [['promote']], [['status', '--bogus', 'orders']]])(
    'usage errors exit 2 with the usage on stderr: %j',
    async (argv) => {
      const api = new FakeApi({});
      const h = harness(api);
      expect(await h.run(...argv)).toBe(2);
      expect(h.stderr()).toMatch(/^Error: .+\n\n/);
      expect(h.stderr()).toContain(USAGE);
      expect(h.stdout()).toBe('');
      expect(api.gets).toBe(0);
    },
  );

  test.each([[[]], [['help']], [['--help']]])('help on stdout, exit 0: %j', async (argv) => {
    const h = harness(new FakeApi({}));
    expect(await h.run(...argv)).toBe(0);
    expect(h.stdout()).toBe(USAGE);
  });
});

describe('kubectl msop status', () => {
  test('draws the status once', async () => {
    const h = harness(new FakeApi(canaryInRelease));
    expect(await h.run('status', 'orders')).toBe(0);
    expect(h.stdout()).toBe(renderStatus(atStep2, NOW));
  });

  test('colours only on a terminal', async () => {
    const h = harness(new FakeApi(canaryInRelease), { tty: true });
    expect(await h.run('status', 'orders')).toBe(0);
    expect(h.stdout()).toBe(renderStatus(atStep2, NOW, { color: true }));
  });

  test('--watch redraws on each change, from the resourceVersion it drew, until Ctrl-C (exit 0)', async () => {
    const ctrlC = new AbortController();
    const api = new FakeApi({ 'shop/orders': withRv(atStep2, '10') }, [
      async (onEvent) => {
        onEvent({ type: 'MODIFIED', object: withRv(manualGate, '11') });
        onEvent({ type: 'BOOKMARK', object: withRv(manualGate, '12') });
        // The server closes the stream (its timeout): the plugin watches on from 12.
      },
      async (onEvent) => {
        onEvent({ type: 'MODIFIED', object: withRv(ready, '13') });
        ctrlC.abort();
      },
    ]);
    const h = harness(api, { interrupt: ctrlC });
    expect(await h.run('status', 'orders', '--watch')).toBe(0);
    expect(api.watches).toEqual([
      { fieldSelector: 'metadata.name=orders', resourceVersion: '10', allowWatchBookmarks: true, timeoutSeconds: 300 },
      { fieldSelector: 'metadata.name=orders', resourceVersion: '12', allowWatchBookmarks: true, timeoutSeconds: 300 },
    ]);
    const frames = h.stdout().split(/^--- .*\n/m);
    expect(frames).toEqual([
      renderStatus(withRv(atStep2, '10'), NOW),
      renderStatus(withRv(manualGate, '11'), NOW),
      renderStatus(withRv(ready, '13'), NOW),
    ]);
    expect(h.stdout()).toContain(`--- ${NOW.toISOString()}\n`);
    expect(api.gets).toBe(1);
  });

  test('--watch reads the object again after 410 Gone', async () => {
    const ctrlC = new AbortController();
    const api = new FakeApi({ 'shop/orders': withRv(atStep2, '10') }, [
      async (onEvent) => {
        onEvent({
          type: 'ERROR',
          object: { code: 410, message: 'too old resource version: 10 (20)' } as unknown as Microservice,
        });
      },
      async () => ctrlC.abort(),
    ]);
    const h = harness(api, { interrupt: ctrlC });
    api.get = async () => {
      api.gets++;
      return withRv(atStep2, api.gets === 1 ? '10' : '20');
    };
    expect(await h.run('status', 'orders', '-w')).toBe(0);
    expect(api.gets).toBe(2);
    expect(api.watches.map((q) => q.resourceVersion)).toEqual(['10', '20']);
  });

  test('--watch ends with exit 1 when the Microservice is deleted', async () => {
    const api = new FakeApi({ 'shop/orders': withRv(atStep2, '10') }, [
      async (onEvent) => onEvent({ type: 'DELETED', object: withRv(atStep2, '11') }),
    ]);
    const h = harness(api);
    expect(await h.run('status', 'orders', '--watch')).toBe(1);
    expect(h.stderr()).toBe('Error: microservice "orders" was deleted from namespace "shop"\n');
  });

  test('--watch on a terminal redraws in place', async () => {
    const ctrlC = new AbortController();
    const api = new FakeApi({ 'shop/orders': withRv(atStep2, '10') }, [async () => ctrlC.abort()]);
    const h = harness(api, { tty: true, interrupt: ctrlC });
    expect(await h.run('status', 'orders', '--watch')).toBe(0);
    const out = h.stdout();
    expect(out.startsWith('\x1b[2J\x1b[H')).toBe(true);
    expect(out).toContain('Canary   3fd15463\x1b[K\n');
    expect(out).toContain('Watching microservice/orders; Ctrl-C to stop.');
  });
});

// Stops and starts components of the test cluster's control plane, and only that cluster's: each process
// is found by the pid file kwokctl keeps in the cluster's directory (the kubeconfig's directory), and is
// touched only if its command line is that cluster's own binary. A component is started again with the
// same arguments, working directory and log file, and its new pid written back, so `kwokctl delete
// cluster` still stops it.
//
// While the API server is down its port is held by a placeholder that resets every connection, so no
// other process on this shared machine can take the port in the meantime (and the operator's requests
// cannot reach a stranger); the API server comes back with --permit-port-sharing, so it can bind beside
// the placeholder, which is then closed.
//
// kube-controller-manager and kube-scheduler exit when they cannot renew their leader Lease, as they
// would in a real cluster during an API server outage; there the kubelet restarts them, here supervise()
// does.
import { spawn } from 'node:child_process';
import { existsSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import path from 'node:path';
import { eventually, kubectl } from '../cluster/harness';

type Component = 'kube-apiserver' | 'kube-controller-manager' | 'kube-scheduler';
const COMPONENTS: Component[] = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'];

const alive = (pid: number) =>
  existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');

export class ControlPlane {
  private readonly dir = path.dirname(process.env.MSOP_TEST_KUBECONFIG!);
  private readonly argv = new Map<Component, string[]>();
  private readonly stopped = new Set<Component>();
  private placeholder?: Server;
  private supervised = false;
  /** Components supervise() started again, with the time. */
  readonly restarts: { component: Component; at: number }[] = [];

  private pidFile(component: Component): string {
    return path.join(this.dir, 'pids', `${component}.pid`);
  }

  private pid(component: Component): number {
    return Number(readFileSync(this.pidFile(component), 'utf8').trim());
  }

  /** Reads each component's command line while it runs, checking it is this cluster's. */
  capture(): void {
    for (const component of COMPONENTS) {
      const pid = this.pid(component);
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
      const binary = path.join(this.dir, 'bin', component);
      if (argv[0] !== binary)
        throw new Error(
          `pid ${pid} in ${this.pidFile(component)} is not this cluster's ${component}: ${argv.join(' ')}`,
        );
      this.argv.set(component, argv);
    }
  }

  /** SIGKILLs a component and waits until it is gone; supervise() leaves it down until start(). */
  async kill(component: Component): Promise<void> {
    if (!this.argv.has(component)) this.capture();
    const pid = this.pid(component);
    this.stopped.add(component);
    process.kill(pid, 'SIGKILL');
    if (component === 'kube-apiserver') this.placeholder = await this.holdPort(this.port());
    await eventually(() => !alive(pid), { message: `${component} pid ${pid} to exit`, intervalMs: 50 });
  }

  private port(): number {
    const flag = this.argv.get('kube-apiserver')!.find((a) => a.startsWith('--secure-port='));
    if (!flag) throw new Error('kube-apiserver has no --secure-port flag');
    return Number(flag.split('=')[1]);
  }

  /** Binds the port the moment the killed API server lets go of it (tried every 2 ms for up to 10 s). */
  private async holdPort(port: number): Promise<Server> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const server = createServer((socket) => socket.resetAndDestroy());
      const bound = await new Promise<boolean>((resolve) => {
        server.once('error', () => resolve(false));
        server.listen({ port, host: '127.0.0.1', reusePort: true }, () => resolve(true));
      });
      if (bound) return server;
      if (Date.now() > deadline) throw new Error(`could not hold port ${port} after killing kube-apiserver`);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }

  /** Starts a component again as it was; for the API server, waits for /readyz. */
  async start(component: Component): Promise<void> {
    let argv = this.argv.get(component);
    if (!argv) throw new Error(`${component}: start() without capture()`);
    if (component === 'kube-apiserver' && !argv.includes('--permit-port-sharing=true'))
      argv = [...argv, '--permit-port-sharing=true'];
    const log = openSync(path.join(this.dir, 'logs', `${component}.log`), 'a');
    const child = spawn(argv[0]!, argv.slice(1), { cwd: this.dir, detached: true, stdio: ['ignore', log, log] });
    child.unref();
    writeFileSync(this.pidFile(component), String(child.pid));
    this.stopped.delete(component);
    if (component !== 'kube-apiserver') return;
    try {
      // Until the placeholder closes, some connections still land on it and are reset: retried here.
      await eventually(async () => (await kubectl('get', '--raw', '/readyz')).trim() === 'ok', {
        message: 'kube-apiserver /readyz after the restart',
        timeoutMs: 90_000,
        intervalMs: 250,
      });
    } finally {
      const placeholder = this.placeholder;
      this.placeholder = undefined;
      await new Promise<void>((resolve) => (placeholder ? placeholder.close(() => resolve()) : resolve()));
    }
  }

  /** Restarts any captured component that exited on its own, every half second, until the returned stop. */
  supervise(): () => void {
    if (this.argv.size === 0) this.capture();
    this.supervised = true;
    let busy = false;
    const timer = setInterval(() => {
      if (busy || !this.supervised) return;
      busy = true;
      void (async () => {
        for (const component of COMPONENTS) {
          if (!this.supervised || this.stopped.has(component) || alive(this.pid(component))) continue;
          this.restarts.push({ component, at: Date.now() });
          await this.start(component);
        }
      })().finally(() => (busy = false));
    }, 500);
    return () => {
      this.supervised = false;
      clearInterval(timer);
    };
  }
}

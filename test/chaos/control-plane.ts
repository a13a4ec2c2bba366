// Stops and starts components of the test cluster's control plane, and only that cluster's: each process
// is found by the pid file kwokctl keeps in the cluster's directory (the kubeconfig's directory), and is
// touched only if its command line is that cluster's own binary. A component is started again with the
// same arguments, working directory and log file, and its new pid written back, so `kwokctl delete
// cluster` still stops it.
//
// kube-controller-manager and kube-scheduler exit when they cannot renew their leader Lease, as they
// would in a real cluster during an API server outage; there the kubelet restarts them, here supervise()
// does.
import { spawn } from 'node:child_process';
import { existsSync, openSync, readFileSync, writeFileSync } from 'node:fs';
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
    await eventually(() => !alive(pid), { message: `${component} pid ${pid} to exit`, intervalMs: 50 });
  }

  /** Starts a component again as it was; for the API server, waits for /readyz. */
  async start(component: Component): Promise<void> {
    const argv = this.argv.get(component);
    if (!argv) throw new Error(`${component}: start() without capture()`);
    const log = openSync(path.join(this.dir, 'logs', `${component}.log`), 'a');
    const child = spawn(argv[0]!, argv.slice(1), { cwd: this.dir, detached: true, stdio: ['ignore', log, log] });
    child.unref();
    writeFileSync(this.pidFile(component), String(child.pid));
    this.stopped.delete(component);
    if (component === 'kube-apiserver')
      await eventually(async () => (await kubectl('get', '--raw', '/readyz')).trim() === 'ok', {
        message: 'kube-apiserver /readyz after the restart',
        timeoutMs: 60_000,
        intervalMs: 250,
      });
  }

  /** Restarts any captured component that exited on its own, every half second, until the returned stop. */
  supervise(): () => void {
    if (this.argv.size === 0) this.capture();
    let busy = false;
    const timer = setInterval(() => {
      if (busy) return;
      busy = true;
      void (async () => {
        for (const component of COMPONENTS) {
          if (this.stopped.has(component) || alive(this.pid(component))) continue;
          this.restarts.push({ component, at: Date.now() });
          await this.start(component);
        }
      })().finally(() => (busy = false));
    }, 500);
    return () => clearInterval(timer);
  }
}

// `kubectl msop`: the command runner. Parsing (args.ts) and drawing
// (status-view.ts) are pure; this file does the I/O. bin/kubectl-msop calls main().
import type { KubernetesObject } from '@kubernetes/client-node';
import { ANNOTATION_ACTION, API_VERSION, KIND, type ReleaseAction } from '../api/constants';
import type { Microservice } from '../api/types';
import type { WatchEvent } from '../kube/client';
import { KubeClient } from '../kube/client';
import { ApiError, errorMessage, isGone, isNotFound, UnreachableError } from '../kube/errors';
import { loadKubeConfig } from '../kube/kubeconfig';
import { resourcePath, resourceType } from '../kube/resources';
import { type CommandArgs, parseArgs, USAGE } from './args';
import { effectiveValue, renderExplain } from './explain-view';
import { renderStatus } from './status-view';

/** The few calls the plugin makes, so tests can run it without a cluster. */
export interface MicroserviceApi {
  get(namespace: string, name: string): Promise<Microservice>;
  mergePatch(namespace: string, name: string, patch: unknown): Promise<Microservice>;
  watch(
    namespace: string,
    query: Record<string, string | number | boolean | undefined>,
    onEvent: (event: WatchEvent<Microservice>) => void,
    signal: AbortSignal,
  ): Promise<void>;
}

export interface Output {
  write(text: string): unknown;
  isTTY?: boolean;
}

export interface CliDeps {
  stdout: Output;
  stderr: Output;
  /** Resolves the kubeconfig, context and namespace; throws CliError for a bad --context. */
  connect: (args: CommandArgs) => { api: MicroserviceApi; namespace: string };
  now: () => Date;
  /** Aborted on Ctrl-C: status --watch then ends with exit code 0. */
  interrupted: AbortSignal;
  /** NO_COLOR set: no colours even on a terminal. */
  noColor?: boolean;
}

/** An error with a message for people and an exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

const WATCH_TIMEOUT_SECONDS = 300;
const RETRY_DELAY_MS = 1_000;

/** Runs one command and returns its exit code; never throws. */
export async function runCli(argv: readonly string[], deps: CliDeps): Promise<number> {
  const parsed = parseArgs(argv);
  if (parsed.kind === 'help') {
    deps.stdout.write(USAGE);
    return 0;
  }
  if (parsed.kind === 'error') {
    deps.stderr.write(`Error: ${parsed.message}\n\n${USAGE}`);
    return 2;
  }
  try {
    const { api, namespace } = deps.connect(parsed);
    const target = { api, namespace, name: parsed.name };
    switch (parsed.command) {
      case 'pause':
      case 'resume':
        await setPaused(target, parsed.command === 'pause', deps);
        return 0;
      case 'status':
        return parsed.watch ? await watchStatus(target, deps) : await showStatus(target, deps);
      case 'explain':
        deps.stdout.write(renderExplain(await withNotFound(target, api.get(target.namespace, target.name))));
        return 0;
      default:
        await requestAction(
          target,
          parsed.command === 'promote' && parsed.full ? 'promote-full' : parsed.command,
          deps,
        );
        return 0;
    }
  } catch (err) {
    deps.stderr.write(`Error: ${describeError(err, parsed)}\n`);
    return err instanceof CliError ? err.exitCode : 1;
  }
}

interface Target {
  api: MicroserviceApi;
  namespace: string;
  name: string;
}

async function requestAction(target: Target, action: ReleaseAction, deps: CliDeps): Promise<void> {
  const patch = { metadata: { annotations: { [ANNOTATION_ACTION]: action } } };
  const ms = await withNotFound(target, target.api.mergePatch(target.namespace, target.name, patch));
  deps.stdout.write(`microservice/${target.name}: ${action} requested\n`);
  const note = actionNote(ms, action);
  if (note) deps.stderr.write(`Note: ${note}\n`);
}

/** Says when an action has nothing to act on, as far as the status shows: msop then removes it without effect. */
function actionNote(ms: Microservice, action: ReleaseAction): string | undefined {
  const status = ms.status ?? {};
  const strategy = (effectiveValue(ms, 'release.strategy') as string | undefined) ?? 'Rolling';
  if (strategy === 'Rolling')
    return `${ms.metadata.name} uses the ${strategy} strategy; ${action} acts on Canary and BlueGreen releases`;
  if (action === 'retry') {
    return status.failedRevision
      ? undefined
      : `${ms.metadata.name} shows no rolled-back revision (status.failedRevision is empty); retry acts on one`;
  }
  return status.canaryRevision === undefined
    ? `${ms.metadata.name} shows no release in progress (status.canaryRevision is empty); ${action} acts on one`
    : undefined;
}

async function setPaused(target: Target, paused: boolean, deps: CliDeps): Promise<void> {
  const patch = { spec: { release: { paused } } };
  await withNotFound(target, target.api.mergePatch(target.namespace, target.name, patch));
  deps.stdout.write(`microservice/${target.name}: ${paused ? 'paused' : 'resumed'}\n`);
}

async function showStatus(target: Target, deps: CliDeps): Promise<number> {
  const ms = await withNotFound(target, target.api.get(target.namespace, target.name));
  deps.stdout.write(renderStatus(ms, deps.now(), { color: useColor(deps) }));
  return 0;
}

/**
 * Draws the status, then again on every change, until Ctrl-C. The watch is on
 * the single object (fieldSelector metadata.name=NAME) from the resourceVersion
 * drawn last; a closed stream resumes from there, an expired one starts over.
 */
async function watchStatus(target: Target, deps: CliDeps): Promise<number> {
  const tty = deps.stdout.isTTY === true;
  const color = useColor(deps);
  let frames = 0;
  let last: Microservice | undefined;
  const draw = (ms: Microservice) => {
    last = ms;
    const now = deps.now();
    const view = renderStatus(ms, now, { color });
    if (tty) {
      // Home, each line cleared to its end, then the rest of the screen: a redraw without flicker.
      const footer = `\nWatching microservice/${target.name}; Ctrl-C to stop. Updated ${now.toLocaleTimeString()}\n`;
      deps.stdout.write(`\x1b[H${(view + footer).replace(/\n/g, '\x1b[K\n')}\x1b[J`);
    } else {
      deps.stdout.write(`${frames > 0 ? `--- ${now.toISOString()}\n` : ''}${view}`);
    }
    frames++;
  };
  const fetchAndDraw = async () => {
    const ms = await withNotFound(target, target.api.get(target.namespace, target.name));
    draw(ms);
    return ms.metadata.resourceVersion;
  };

  const { interrupted } = deps;
  if (tty) deps.stdout.write('\x1b[2J');
  // Ages and countdowns move on between events; a terminal shows them ticking.
  const ticker = tty ? setInterval(() => last && draw(last), 1_000) : undefined;
  try {
    let resourceVersion = await fetchAndDraw();
    while (!interrupted.aborted) {
      // Set by an event that ends this watch: the object was deleted, or the server sent an error.
      let outcome: 'deleted' | ApiError | undefined;
      let failure: unknown;
      const stop = new AbortController();
      try {
        await target.api.watch(
          target.namespace,
          {
            fieldSelector: `metadata.name=${target.name}`,
            resourceVersion,
            allowWatchBookmarks: true,
            timeoutSeconds: WATCH_TIMEOUT_SECONDS,
          },
          (event) => {
            if (outcome !== undefined) return;
            if (event.type === 'ERROR') {
              const status = event.object as unknown as { code?: number; message?: string };
              outcome = new ApiError(status.code ?? 500, '', `watch: ${status.message ?? 'error'}`);
              stop.abort();
              return;
            }
            resourceVersion = event.object.metadata?.resourceVersion ?? resourceVersion;
            if (event.type === 'DELETED') {
              outcome = 'deleted';
              stop.abort();
            } else if (event.type !== 'BOOKMARK') {
              draw(event.object);
            }
          },
          AbortSignal.any([interrupted, stop.signal]),
        );
      } catch (err) {
        failure = err;
      }
      if (interrupted.aborted) break;
      if (outcome === 'deleted') {
        throw new CliError(`microservice "${target.name}" was deleted from namespace "${target.namespace}"`);
      }
      failure = outcome ?? failure;
      // A clean close (the server's timeout): watch on from the last resourceVersion.
      if (failure === undefined) continue;
      // 410 Gone: that resourceVersion is too old; read the object again and watch from there.
      // Anything else (a dropped connection): the same after a pause.
      if (!isGone(failure)) await sleep(RETRY_DELAY_MS, interrupted);
      if (interrupted.aborted) break;
      resourceVersion = await fetchAndDraw();
    }
  } finally {
    if (ticker) clearInterval(ticker);
  }
  if (tty) deps.stdout.write('\n');
  return 0;
}

function useColor(deps: CliDeps): boolean {
  return deps.stdout.isTTY === true && !deps.noColor;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Maps a 404 for the object to the message people expect. */
async function withNotFound<T>(target: Target, call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (err) {
    if (isNotFound(err) && errorMessage(err).includes(`"${target.name}" not found`)) {
      throw new CliError(`microservice "${target.name}" not found in namespace "${target.namespace}"`);
    }
    if (isNotFound(err)) {
      throw new CliError(
        `the Microservice API (microservices.msop.dev) is not installed in this cluster; apply crds/microservice.yaml (${errorMessage(err)})`,
      );
    }
    throw err;
  }
}

function describeError(err: unknown, args: CommandArgs): string {
  if (err instanceof CliError) return err.message;
  if (err instanceof ApiError && err.statusCode === 403) {
    return `not allowed to ${args.command === 'status' || args.command === 'explain' ? 'read' : 'change'} microservice "${args.name}": ${err.message}`;
  }
  if (err instanceof UnreachableError) return err.message;
  const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
  return `${errorMessage(err)}${cause}`;
}

/** The real connection: --kubeconfig, else $KUBECONFIG, in-cluster, ~/.kube/config; --context and -n on top. */
export function connect(args: CommandArgs): { api: MicroserviceApi; namespace: string } {
  let context;
  try {
    context = loadKubeConfig({ file: args.kubeconfig, context: args.context });
  } catch (err) {
    throw new CliError(`cannot load the kubeconfig: ${errorMessage(err)}`);
  }
  return { api: kubeApi(new KubeClient(context)), namespace: args.namespace ?? context.namespace ?? 'default' };
}

export function kubeApi(client: KubeClient): MicroserviceApi {
  return {
    get: (namespace, name) => client.get<Microservice & KubernetesObject>(API_VERSION, KIND, namespace, name),
    mergePatch: (namespace, name, patch) =>
      client.mergePatch<Microservice & KubernetesObject>(API_VERSION, KIND, namespace, name, patch),
    watch: (namespace, query, onEvent, signal) =>
      client.watch<Microservice>(
        resourcePath(resourceType(API_VERSION, KIND), namespace),
        query,
        undefined,
        onEvent,
        signal,
      ),
  };
}

/** The entry point of bin/kubectl-msop: runs, flushes and exits with the command's code. */
export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  const interrupt = new AbortController();
  const onSignal = () => interrupt.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const code = await runCli(argv, {
    stdout: process.stdout,
    stderr: process.stderr,
    connect,
    now: () => new Date(),
    interrupted: interrupt.signal,
    noColor: process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '',
  });
  // Exit once the output is flushed; open keep-alive connections would otherwise hold the process.
  process.stdout.write('', () => process.exit(code));
}

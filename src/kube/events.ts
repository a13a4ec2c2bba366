// Kubernetes Events for `kubectl describe`. A repeat of the same event bumps
// its count instead of adding a new one, as the kubelet and client-go do.
// Like client-go's recorder, record() only queues: a reconcile never waits for
// an Event write, which under load is several API round trips per reconcile.
import type { CoreV1Event, KubernetesObject } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { KubeClient } from './client';

export type EventType = 'Normal' | 'Warning';

const REPEAT_WINDOW_MS = 10 * 60_000;
/** Writes in flight at once. */
const WRITERS = 4;
/** Queued writes past this are dropped (client-go's broadcaster drops too): Events are best effort. */
const MAX_QUEUED = 1_000;

interface Recorded {
  key: string;
  event: CoreV1Event;
  count: number;
  lastSeen: Date;
  /** The count the API server has; 0 until the Event is created. */
  written: number;
  /** A create or a count patch is queued or in flight. */
  busy: boolean;
}

export class EventRecorder {
  private readonly recent = new Map<string, Recorded>();
  private readonly queue: Recorded[] = [];
  private writing = 0;
  private dropped = 0;
  private drained: (() => void)[] = [];

  constructor(
    private readonly client: KubeClient,
    private readonly log: Logger,
    private readonly component = 'msop',
    private readonly instance = process.env.HOSTNAME ?? 'msop',
  ) {}

  /** Queues the event and returns at once. Never throws: an event that cannot be written is logged and dropped. */
  record(object: KubernetesObject, type: EventType, reason: string, message: string): void {
    const meta = object.metadata ?? {};
    const key = [meta.uid, type, reason, message].join('\u0000');
    const now = new Date();
    this.forgetOld(now.getTime());
    const seen = this.recent.get(key);
    if (seen) {
      seen.count += 1;
      seen.lastSeen = now;
      // Moved to the end: the map stays in the order last seen, so forgetOld stops at the first recent one.
      this.recent.delete(key);
      this.recent.set(key, seen);
      // A queued write sends the count it finds then; an idle Event needs one more.
      if (!seen.busy) this.enqueue(seen);
      return;
    }
    const namespace = meta.namespace ?? 'default';
    const event: CoreV1Event = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `${meta.name}.${randomBytes(8).toString('hex')}`, namespace },
      involvedObject: {
        apiVersion: object.apiVersion,
        kind: object.kind,
        name: meta.name,
        namespace: meta.namespace,
        uid: meta.uid,
      },
      type,
      reason,
      message,
      firstTimestamp: now,
      source: { component: this.component },
      reportingComponent: this.component,
      reportingInstance: this.instance,
    };
    const recorded: Recorded = { key, event, count: 1, lastSeen: now, written: 0, busy: false };
    this.recent.set(key, recorded);
    this.enqueue(recorded);
  }

  /** Resolves once every queued event is written or dropped, or after `timeoutMs` (a shutdown's last events). */
  flush(timeoutMs: number): Promise<void> {
    if (this.writing === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.drained.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private enqueue(recorded: Recorded): void {
    if (this.queue.length >= MAX_QUEUED) {
      if (this.recent.get(recorded.key) === recorded && recorded.written === 0) this.recent.delete(recorded.key);
      if (this.dropped++ % 100 === 0)
        this.log.warn({ dropped: this.dropped, reason: recorded.event.reason }, 'Event queue full, dropping events');
      return;
    }
    recorded.busy = true;
    this.queue.push(recorded);
    this.pump();
  }

  private pump(): void {
    while (this.writing < WRITERS && this.queue.length > 0) {
      const next = this.queue.shift()!;
      this.writing += 1;
      void this.write(next).finally(() => {
        this.writing -= 1;
        this.pump();
        if (this.writing === 0 && this.queue.length === 0) for (const done of this.drained.splice(0)) done();
      });
    }
  }

  private async write(recorded: Recorded): Promise<void> {
    const { event } = recorded;
    const count = recorded.count;
    const lastTimestamp = recorded.lastSeen;
    try {
      if (recorded.written === 0) await this.client.create({ ...event, count, lastTimestamp });
      else
        await this.client.mergePatch('v1', 'Event', event.metadata.namespace!, event.metadata.name!, {
          count,
          lastTimestamp: lastTimestamp.toISOString(),
        });
      recorded.written = count;
      recorded.busy = false;
      // Repeats that came while this write was in flight.
      if (recorded.count > recorded.written) this.enqueue(recorded);
    } catch (err) {
      recorded.busy = false;
      if (this.recent.get(recorded.key) === recorded) this.recent.delete(recorded.key);
      this.log.warn({ reason: event.reason, err }, 'Could not record event');
    }
  }

  /** Oldest first, up to the first Event seen within the window: a scan of the whole map per record() was quadratic. */
  private forgetOld(now: number): void {
    for (const [key, seen] of this.recent) {
      if (now - seen.lastSeen.getTime() <= REPEAT_WINDOW_MS) return;
      if (!seen.busy) this.recent.delete(key);
    }
  }
}

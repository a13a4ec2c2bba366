// Kubernetes Events for `kubectl describe`. A repeat of the same event bumps
// its count instead of adding a new one, as the kubelet and client-go do.
import type { CoreV1Event, KubernetesObject } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { KubeClient } from './client';

export type EventType = 'Normal' | 'Warning';

const REPEAT_WINDOW_MS = 10 * 60_000;

interface Recorded {
  name: string;
  namespace: string;
  count: number;
  lastSeen: number;
}

export class EventRecorder {
  private readonly recent = new Map<string, Recorded>();

  constructor(
    private readonly client: KubeClient,
    private readonly log: Logger,
    private readonly component = 'msop',
    private readonly instance = process.env.HOSTNAME ?? 'msop',
  ) {}

  /** Never throws: an event that cannot be written is logged and dropped. */
  async record(object: KubernetesObject, type: EventType, reason: string, message: string): Promise<void> {
    const meta = object.metadata ?? {};
    const key = [meta.uid, type, reason, message].join('\u0000');
    const now = new Date();
    this.forgetOld(now.getTime());
    try {
      const seen = this.recent.get(key);
      if (seen) {
        seen.count += 1;
        seen.lastSeen = now.getTime();
        await this.client.mergePatch('v1', 'Event', seen.namespace, seen.name, {
          count: seen.count,
          lastTimestamp: now.toISOString(),
        });
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
        count: 1,
        firstTimestamp: now,
        lastTimestamp: now,
        source: { component: this.component },
        reportingComponent: this.component,
        reportingInstance: this.instance,
      };
      await this.client.create(event);
      this.recent.set(key, { name: event.metadata.name!, namespace, count: 1, lastSeen: now.getTime() });
    } catch (err) {
      this.recent.delete(key);
      this.log.warn({ reason, err }, 'Could not record event');
    }
  }

  private forgetOld(now: number): void {
    for (const [key, seen] of this.recent) {
      if (now - seen.lastSeen > REPEAT_WINDOW_MS) this.recent.delete(key);
    }
  }
}

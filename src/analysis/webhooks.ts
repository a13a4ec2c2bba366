// Release webhooks: an HTTP POST with a JSON body; a 2xx answer in time is a pass, another answer a
// failure, and no answer (a timeout, a refused connection) is missing data, not a verdict.
import { undici } from './undici';

export type WebhookType = 'pre-rollout' | 'rollout' | 'confirm-promotion' | 'post-rollout' | 'rollback';

export interface Webhook {
  name: string;
  type: WebhookType;
  url: string;
  timeoutSeconds?: number;
  metadata?: Record<string, string>;
}

export interface WebhookPayload {
  name: string;
  namespace: string;
  phase: string;
  type: WebhookType;
  stableRevision?: string;
  canaryRevision?: string;
  weight: number;
  metadata: Record<string, string>;
}

export interface WebhookOutcome {
  name: string;
  passed: boolean;
  /** False when no HTTP answer came back in time: the check is inconclusive, not failed. */
  answered: boolean;
  reason: string;
}

const DEFAULT_TIMEOUT_SECONDS = 10;

export async function callWebhook(
  hook: Webhook,
  payload: Omit<WebhookPayload, 'type' | 'metadata'>,
): Promise<WebhookOutcome> {
  const timeout = (hook.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS) * 1_000;
  const { fetch } = await undici();
  try {
    const response = await fetch(hook.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...payload, type: hook.type, metadata: hook.metadata ?? {} }),
      signal: AbortSignal.timeout(timeout),
    });
    const text = (await response.text()).trim().slice(0, 200);
    if (response.ok)
      return {
        name: hook.name,
        passed: true,
        answered: true,
        reason: `webhook ${hook.name} answered ${response.status}`,
      };
    return {
      name: hook.name,
      passed: false,
      answered: true,
      reason: `webhook ${hook.name} answered ${response.status}${text ? `: ${text}` : ''}`,
    };
  } catch (err) {
    // Duck-typed, as in prometheus.ts: the DOMException of AbortSignal.timeout() may come from another realm.
    const cause =
      (err as { name?: string } | undefined)?.name === 'TimeoutError'
        ? `no answer within ${timeout / 1000}s`
        : (err as Error).message;
    return {
      name: hook.name,
      passed: false,
      answered: false,
      reason: `webhook ${hook.name} (${hook.url}) failed: ${cause}`,
    };
  }
}

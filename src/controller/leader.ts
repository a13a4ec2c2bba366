// Leader election on a Lease, with client-go's rules and timings: only the holder
// reconciles; a standby takes the Lease once it has seen no renewal for the lease
// duration (measured on its own clock, so clock skew between nodes does not
// matter); a leader that cannot renew within the renew deadline gives up, which
// is always before a standby may take over (renew deadline < lease duration).
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { isConflict } from '../kube/errors';
import { type LeaseSpec, type LeaseStore, microTime } from '../kube/lease';
import type { Logger } from '../observability/logger';

export interface LeaderElectionTimings {
  /** How long a standby waits without seeing a renewal before it takes the Lease. */
  leaseDurationMs: number;
  /** How long the leader keeps trying to renew before it gives up leadership. */
  renewDeadlineMs: number;
  /** How often the leader renews and a standby retries. */
  retryPeriodMs: number;
}

/** client-go's defaults (and controller-runtime's). */
export const DEFAULT_TIMINGS: LeaderElectionTimings = {
  leaseDurationMs: 15_000,
  renewDeadlineMs: 10_000,
  retryPeriodMs: 2_000,
};

export interface LeaderElectorOptions extends Partial<LeaderElectionTimings> {
  identity: string;
  /** Called once when leadership is lost while running: the caller must stop writing at once. */
  onLost: () => void;
  /** Milliseconds since the epoch; a fake clock in unit tests. */
  now?: () => number;
}

/** hostname_random, as controller-runtime forms it: unique even for two processes on one host. */
export function leaderIdentity(): string {
  return `${process.env.HOSTNAME || hostname()}_${randomBytes(4).toString('hex')}`;
}

const sameRecord = (a: LeaseSpec | undefined, b: LeaseSpec | undefined): boolean =>
  a?.holderIdentity === b?.holderIdentity &&
  a?.renewTime === b?.renewTime &&
  a?.acquireTime === b?.acquireTime &&
  a?.leaseDurationSeconds === b?.leaseDurationSeconds &&
  a?.leaseTransitions === b?.leaseTransitions;

export class LeaderElector {
  readonly identity: string;
  private readonly timings: LeaderElectionTimings;
  private readonly now: () => number;
  /** The last record seen and when this replica first saw it (its own clock). */
  private observed?: LeaseSpec;
  private observedAt = 0;
  private leading = false;
  private stopped = false;
  private renewTimer?: NodeJS.Timeout;
  private deadlineTimer?: NodeJS.Timeout;
  private inFlight?: Promise<unknown>;

  constructor(
    private readonly store: LeaseStore,
    private readonly options: LeaderElectorOptions,
    private readonly log: Logger,
  ) {
    this.identity = options.identity;
    this.timings = { ...DEFAULT_TIMINGS, ...options };
    this.now = options.now ?? Date.now;
    if (this.timings.renewDeadlineMs >= this.timings.leaseDurationMs)
      throw new Error('leader election: the renew deadline must be shorter than the lease duration');
  }

  isLeader(): boolean {
    return this.leading;
  }

  /**
   * Retries until this replica holds the Lease, then keeps renewing it in the
   * background. Resolves true once leading; false when the signal aborts first.
   */
  async acquire(signal?: AbortSignal): Promise<boolean> {
    this.log.info({ lease: this.store.description, identity: this.identity }, 'Waiting for the leader Lease');
    let logged = '';
    while (!signal?.aborted && !this.stopped) {
      let acquired = false;
      try {
        acquired = await this.track(this.tryAcquireOrRenew());
      } catch (err) {
        this.log.warn({ lease: this.store.description, err }, 'Could not get the leader Lease');
      }
      if (acquired && !signal?.aborted && !this.stopped) {
        this.leading = true;
        this.log.info({ lease: this.store.description, identity: this.identity }, 'Became leader');
        this.armDeadline(this.now());
        this.scheduleRenew();
        return true;
      }
      const holder = this.observed?.holderIdentity ?? '';
      if (holder && holder !== logged) {
        logged = holder;
        this.log.info({ lease: this.store.description, holder }, 'Another replica leads, standing by');
      }
      await this.sleep(this.nextAttemptInMs(), signal);
    }
    return false;
  }

  /**
   * Stops renewing and, if this replica holds the Lease, hands it back (holder
   * cleared, duration 1 s) so a standby takes over at once instead of waiting
   * for it to expire. Call after the workers have stopped writing.
   */
  async release(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.renewTimer);
    clearTimeout(this.deadlineTimer);
    await this.inFlight?.catch(() => undefined);
    if (!this.leading) return;
    this.leading = false;
    try {
      const lease = await this.store.get();
      if (lease?.spec?.holderIdentity !== this.identity) return;
      const now = microTime(this.now());
      await this.store.update(lease, {
        ...lease.spec,
        holderIdentity: '',
        leaseDurationSeconds: 1,
        renewTime: now,
        acquireTime: now,
      });
      this.log.info({ lease: this.store.description }, 'Released the leader Lease');
    } catch (err) {
      this.log.warn({ lease: this.store.description, err }, 'Could not release the leader Lease');
    }
  }

  /** One attempt, as client-go's tryAcquireOrRenew: true when this replica holds the Lease afterwards. */
  private async tryAcquireOrRenew(): Promise<boolean> {
    const now = this.now();
    const leaseDurationSeconds = Math.ceil(this.timings.leaseDurationMs / 1000);
    const lease = await this.store.get();
    if (!lease) {
      const spec: LeaseSpec = {
        holderIdentity: this.identity,
        leaseDurationSeconds,
        acquireTime: microTime(now),
        renewTime: microTime(now),
        leaseTransitions: 0,
      };
      try {
        await this.store.create(spec);
      } catch (err) {
        if (isConflict(err)) return false;
        throw err;
      }
      this.observe(spec, now);
      return true;
    }
    const current = lease.spec ?? {};
    if (!sameRecord(current, this.observed)) this.observe(current, now);
    const holder = current.holderIdentity ?? '';
    const mine = holder === this.identity;
    if (holder !== '' && !mine && !this.expired(now)) return false;
    const spec: LeaseSpec = {
      holderIdentity: this.identity,
      leaseDurationSeconds,
      acquireTime: mine ? current.acquireTime : microTime(now),
      renewTime: microTime(now),
      leaseTransitions: mine ? (current.leaseTransitions ?? 0) : (current.leaseTransitions ?? 0) + 1,
    };
    try {
      await this.store.update(lease, spec);
    } catch (err) {
      if (isConflict(err)) return false;
      throw err;
    }
    this.observe(spec, now);
    return true;
  }

  private observe(spec: LeaseSpec, now: number): void {
    this.observed = spec;
    this.observedAt = now;
  }

  private expired(now: number): boolean {
    const durationMs = (this.observed?.leaseDurationSeconds ?? 0) * 1000;
    return this.observedAt + durationMs <= now;
  }

  /**
   * A standby retries every retry period (plus up to 20% jitter), but never
   * later than just after the Lease it watches would expire: the takeover then
   * comes one lease duration after the last renewal it saw, not up to a retry
   * period later.
   */
  private nextAttemptInMs(): number {
    const jittered = this.timings.retryPeriodMs * (1 + Math.random() * 0.2);
    const holder = this.observed?.holderIdentity ?? '';
    if (!holder || holder === this.identity) return jittered;
    const expiresIn = this.observedAt + (this.observed?.leaseDurationSeconds ?? 0) * 1000 - this.now();
    return Math.max(0, Math.min(jittered, expiresIn + 25));
  }

  private scheduleRenew(): void {
    if (this.stopped) return;
    this.renewTimer = setTimeout(() => void this.renew(), this.timings.retryPeriodMs);
    this.renewTimer.unref();
  }

  private async renew(): Promise<void> {
    if (this.stopped || !this.leading) return;
    const attemptAt = this.now();
    try {
      if (await this.track(this.tryAcquireOrRenew())) {
        this.armDeadline(attemptAt);
      } else if (!this.stopped) {
        // Someone else holds the Lease now: stop at once.
        return this.lose(`the Lease is held by ${this.observed?.holderIdentity ?? 'another replica'}`);
      }
    } catch (err) {
      if (this.stopped) return;
      this.log.warn({ lease: this.store.description, err }, 'Could not renew the leader Lease');
    }
    this.scheduleRenew();
  }

  /** Leadership ends renewDeadline after the start of the last successful renewal, whatever is in flight. */
  private armDeadline(renewedAt: number): void {
    clearTimeout(this.deadlineTimer);
    const remaining = renewedAt + this.timings.renewDeadlineMs - this.now();
    this.deadlineTimer = setTimeout(
      () => this.lose(`no renewal for ${this.timings.renewDeadlineMs / 1000}s`),
      Math.max(0, remaining),
    );
    this.deadlineTimer.unref();
  }

  private lose(reason: string): void {
    if (!this.leading || this.stopped) return;
    this.leading = false;
    this.stopped = true;
    clearTimeout(this.renewTimer);
    clearTimeout(this.deadlineTimer);
    this.log.error({ lease: this.store.description, identity: this.identity, reason }, 'Lost the leader Lease');
    this.options.onLost();
  }

  private track<T>(promise: Promise<T>): Promise<T> {
    this.inFlight = promise;
    return promise;
  }

  private sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}

// Leader election against an in-memory Lease with the API server's
// compare-and-swap semantics, on short timings. The cluster test does the same
// with real processes and client-go's timings.
import pino from 'pino';
import { LeaderElector, leaderIdentity } from '../../../src/controller/leader';
import { ApiError } from '../../../src/kube/errors';
import { type Lease, type LeaseSpec, type LeaseStore, microTime } from '../../../src/kube/lease';

const log = pino({ level: 'silent' });
// Leases count whole seconds, so one second is the shortest lease.
const timings = { leaseDurationMs: 1_000, renewDeadlineMs: 600, retryPeriodMs: 100 };

/** One Lease in memory; each replica gets a view it can cut off to play a dead or partitioned process. */
class MemoryLease {
  lease?: Lease;
  private version = 0;
  writes: string[] = [];

  view(name: string): LeaseStore & { cut: boolean } {
    const store = {
      description: 'test/msop-leader',
      cut: false,
      get: async () => {
        this.check(store.cut);
        return this.lease && structuredClone(this.lease);
      },
      create: async (spec: LeaseSpec) => {
        this.check(store.cut);
        if (this.lease) throw new ApiError(409, 'AlreadyExists', 'leases "msop-leader" already exists');
        this.writes.push(`${name} create`);
        return this.store(spec);
      },
      update: async (lease: Lease, spec: LeaseSpec) => {
        this.check(store.cut);
        if (lease.metadata.resourceVersion !== this.lease?.metadata.resourceVersion)
          throw new ApiError(409, 'Conflict', 'the object has been modified');
        this.writes.push(`${name} update ${spec.holderIdentity}`);
        return this.store(spec);
      },
    };
    return store;
  }

  private check(cut: boolean): void {
    if (cut) throw new Error('connection refused');
  }

  private store(spec: LeaseSpec): Lease {
    this.version += 1;
    this.lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'msop-leader', namespace: 'test', resourceVersion: String(this.version) },
      spec: structuredClone(spec),
    };
    return structuredClone(this.lease);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function elector(store: LeaseStore, identity: string, onLost = jest.fn()) {
  return { elector: new LeaderElector(store, { identity, onLost, ...timings }, log), onLost };
}

const electors: LeaderElector[] = [];
afterEach(async () => {
  await Promise.all(electors.splice(0).map((e) => e.release()));
});
function track<T extends { elector: LeaderElector }>(value: T): T {
  electors.push(value.elector);
  return value;
}

describe('microTime', () => {
  test.each([
    [0, '1970-01-01T00:00:00.000000Z'],
    [Date.UTC(2026, 0, 2, 3, 4, 5, 678), '2026-01-02T03:04:05.678000Z'],
  ])('formats %i as %s', (ms, expected) => {
    expect(microTime(ms)).toBe(expected);
  });
});

describe('leaderIdentity', () => {
  test('is the host name with a random suffix, different each time', () => {
    const a = leaderIdentity();
    expect(a).toMatch(/^.+_[0-9a-f]{8}$/);
    expect(leaderIdentity()).not.toBe(a);
  });
});

describe('LeaderElector', () => {
  test('refuses a renew deadline that is not shorter than the lease duration', () => {
    expect(
      () =>
        new LeaderElector(
          new MemoryLease().view('a'),
          { identity: 'a', onLost: jest.fn(), leaseDurationMs: 1_000, renewDeadlineMs: 1_000 },
          log,
        ),
    ).toThrow('the renew deadline must be shorter than the lease duration');
  });

  test('creates a missing Lease and holds it', async () => {
    const memory = new MemoryLease();
    const { elector: a } = track(elector(memory.view('a'), 'a'));
    expect(await a.acquire()).toBe(true);
    expect(a.isLeader()).toBe(true);
    expect(memory.lease?.spec).toMatchObject({ holderIdentity: 'a', leaseDurationSeconds: 1, leaseTransitions: 0 });
    expect(memory.lease?.spec?.renewTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  });

  test('keeps renewing while leading', async () => {
    const memory = new MemoryLease();
    const { elector: a, onLost } = track(elector(memory.view('a'), 'a'));
    await a.acquire();
    const first = structuredClone(memory.lease?.spec);
    await sleep(timings.renewDeadlineMs * 2);
    expect(memory.lease?.spec?.renewTime).not.toBe(first?.renewTime);
    expect(memory.lease?.spec).toMatchObject({ acquireTime: first?.acquireTime, leaseTransitions: 0 });
    expect(onLost).not.toHaveBeenCalled();
    expect(a.isLeader()).toBe(true);
  });

  test('a standby waits while the leader renews', async () => {
    const memory = new MemoryLease();
    const { elector: a } = track(elector(memory.view('a'), 'a'));
    const { elector: b } = track(elector(memory.view('b'), 'b'));
    await a.acquire();
    const abort = new AbortController();
    const standby = b.acquire(abort.signal);
    await sleep(timings.leaseDurationMs * 2);
    abort.abort();
    expect(await standby).toBe(false);
    expect(b.isLeader()).toBe(false);
    expect(memory.writes.filter((w) => w.startsWith('b'))).toEqual([]);
  });

  test('when the leader dies, it gives up before the standby takes over, and the standby takes over', async () => {
    const memory = new MemoryLease();
    const events: string[] = [];
    const viewA = memory.view('a');
    const { elector: a } = track(
      elector(
        viewA,
        'a',
        jest.fn(() => events.push('a lost')),
      ),
    );
    const { elector: b } = track(elector(memory.view('b'), 'b'));
    await a.acquire();
    const standby = b.acquire().then((leading) => events.push(`b leads: ${leading}`));
    await sleep(timings.retryPeriodMs * 3);
    const cutAt = Date.now();
    viewA.cut = true; // a can no longer reach the API server
    await standby;
    const tookOverMs = Date.now() - cutAt;
    expect(events).toEqual(['a lost', 'b leads: true']);
    expect(a.isLeader()).toBe(false);
    expect(b.isLeader()).toBe(true);
    // One lease duration after the last renewal b saw, plus at most a retry period.
    expect(tookOverMs).toBeLessThan(timings.leaseDurationMs + 2 * timings.retryPeriodMs + 150);
    expect(memory.lease?.spec).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
  });

  test('release hands the Lease over at once', async () => {
    const memory = new MemoryLease();
    const { elector: a } = track(elector(memory.view('a'), 'a'));
    const { elector: b } = track(elector(memory.view('b'), 'b'));
    await a.acquire();
    const standby = b.acquire();
    await sleep(timings.retryPeriodMs * 2);
    const releasedAt = Date.now();
    await a.release();
    expect(memory.lease?.spec).toMatchObject({ holderIdentity: '', leaseDurationSeconds: 1 });
    expect(await standby).toBe(true);
    expect(Date.now() - releasedAt).toBeLessThan(timings.leaseDurationMs);
    expect(memory.lease?.spec?.holderIdentity).toBe('b');
  });

  test('a leader that finds another holder in the Lease stops at once', async () => {
    const memory = new MemoryLease();
    const { elector: a, onLost } = track(elector(memory.view('a'), 'a'));
    await a.acquire();
    const lease = memory.lease!;
    await memory
      .view('intruder')
      .update(lease, { ...lease.spec, holderIdentity: 'intruder', renewTime: microTime(Date.now()) });
    const intrudedAt = memory.writes.length;
    await sleep(timings.retryPeriodMs * 3);
    expect(onLost).toHaveBeenCalledTimes(1);
    expect(a.isLeader()).toBe(false);
    expect(memory.writes.slice(intrudedAt)).toEqual([]);
    expect(memory.lease?.spec?.holderIdentity).toBe('intruder');
  });

  test('loses to a concurrent writer on a conflict instead of overwriting it', async () => {
    const memory = new MemoryLease();
    const views = ['a', 'b', 'c'].map((name) => memory.view(name));
    const candidates = views.map((view, i) => track(elector(view, `r${i}`)).elector);
    const abort = new AbortController();
    const results = candidates.map((c) => c.acquire(abort.signal));
    const first = await Promise.race(results.map((r, i) => r.then(() => i)));
    await sleep(timings.retryPeriodMs * 3);
    abort.abort();
    await Promise.all(results);
    expect(candidates.filter((c) => c.isLeader())).toEqual([candidates[first]]);
    expect(memory.writes.filter((w) => w.endsWith('create'))).toHaveLength(1);
  });

  test('an expired Lease of a dead holder is taken over after one lease duration', async () => {
    const memory = new MemoryLease();
    await memory.view('old').create({
      holderIdentity: 'old',
      leaseDurationSeconds: 1,
      renewTime: microTime(Date.now()),
      acquireTime: microTime(Date.now()),
      leaseTransitions: 3,
    });
    const { elector: b } = track(elector(memory.view('b'), 'b'));
    const started = Date.now();
    expect(await b.acquire()).toBe(true);
    // Measured on b's own clock from when it first saw the record, whatever the record's timestamps say.
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000 - 5);
    expect(memory.lease?.spec).toMatchObject({ holderIdentity: 'b', leaseTransitions: 4 });
  });
});

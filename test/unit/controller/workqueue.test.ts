import { WorkQueue } from '../../../src/controller/workqueue';
import { Backoff } from '../../../src/kube/backoff';

const PENDING = Symbol('pending');

/** The value of a promise if it has already settled, PENDING otherwise. No timers involved. */
async function peek<T>(promise: Promise<T>): Promise<T | typeof PENDING> {
  return Promise.race([promise, Promise.resolve(PENDING)]);
}

/** Takes every key that is waiting now, marking each as done. */
async function drain(queue: WorkQueue): Promise<string[]> {
  const keys: string[] = [];
  while (queue.length > 0) {
    const key = await queue.get();
    if (key === undefined) break;
    keys.push(key);
    queue.done(key);
  }
  return keys;
}

describe('WorkQueue', () => {
  let queue: WorkQueue;

  beforeEach(() => {
    jest.useFakeTimers();
    queue = new WorkQueue(100, 1000);
  });

  afterEach(() => {
    queue.shutDown();
    jest.useRealTimers();
  });

  describe('de-duplication', () => {
    test('hands out a key added twice while waiting once', async () => {
      queue.add('shop/orders');
      queue.add('shop/orders');
      expect(queue.length).toBe(1);

      expect(await queue.get()).toBe('shop/orders');
      expect(queue.length).toBe(0);
      expect(await peek(queue.get())).toBe(PENDING);
    });

    test('keeps distinct keys apart', async () => {
      queue.add('shop/orders');
      queue.add('shop/payments');
      queue.add('shop/orders');
      expect(queue.length).toBe(2);
      expect(await drain(queue)).toEqual(['shop/orders', 'shop/payments']);
    });
  });

  describe('one worker per key', () => {
    test('does not hand a key being processed to a second worker', async () => {
      queue.add('shop/orders');
      expect(await queue.get()).toBe('shop/orders');

      queue.add('shop/orders');
      expect(queue.length).toBe(0);
      const second = queue.get();
      expect(await peek(second)).toBe(PENDING);

      queue.done('shop/orders');
      expect(await peek(second)).toBe('shop/orders');
    });

    test('hands a key re-added during processing out again after done()', async () => {
      queue.add('shop/orders');
      expect(await queue.get()).toBe('shop/orders');
      queue.add('shop/orders');
      queue.add('shop/orders');

      queue.done('shop/orders');
      expect(queue.length).toBe(1);
      expect(await drain(queue)).toEqual(['shop/orders']);
    });

    test('does not hand a key out again after done() when it was not re-added', async () => {
      queue.add('shop/orders');
      expect(await queue.get()).toBe('shop/orders');
      queue.done('shop/orders');
      expect(queue.length).toBe(0);
      expect(await peek(queue.get())).toBe(PENDING);
    });

    test('lets other keys through while one is processed', async () => {
      queue.add('shop/orders');
      expect(await queue.get()).toBe('shop/orders');
      queue.add('shop/orders');
      queue.add('shop/payments');
      expect(await queue.get()).toBe('shop/payments');
    });
  });

  describe('order', () => {
    test('hands keys out first in, first out', async () => {
      for (const key of ['c', 'a', 'b']) queue.add(key);
      expect(await drain(queue)).toEqual(['c', 'a', 'b']);
    });

    test('serves waiting workers in the order they asked', async () => {
      const first = queue.get();
      const second = queue.get();
      queue.add('x');
      queue.add('y');
      expect(await first).toBe('x');
      expect(await second).toBe('y');
      expect(queue.length).toBe(0);
    });
  });

  describe('addAfter', () => {
    test('delivers the key only after the delay', async () => {
      queue.addAfter('a', 1000);
      jest.advanceTimersByTime(999);
      expect(queue.length).toBe(0);
      jest.advanceTimersByTime(1);
      expect(queue.length).toBe(1);
      expect(await queue.get()).toBe('a');
    });

    test('wakes a waiting worker when the delay ends', async () => {
      const worker = queue.get();
      queue.addAfter('a', 500);
      expect(await peek(worker)).toBe(PENDING);
      jest.advanceTimersByTime(500);
      expect(await peek(worker)).toBe('a');
    });

    test('waits the longest timeout for a delay past it (a 999999h pause), rather than firing at once', () => {
      queue.addAfter('a', 999_999 * 3_600_000);
      jest.advanceTimersByTime(60_000);
      expect(queue.length).toBe(0);
      jest.advanceTimersByTime(2 ** 31 - 1 - 60_000);
      expect(queue.length).toBe(1);
    });

    test.each([0, -5])('adds the key at once for a delay of %i', (delay) => {
      queue.addAfter('a', delay);
      expect(queue.length).toBe(1);
    });

    test('keeps an earlier pending delay over a later one', async () => {
      queue.addAfter('a', 1000);
      queue.addAfter('a', 5000);
      jest.advanceTimersByTime(1000);
      expect(await drain(queue)).toEqual(['a']);
      jest.advanceTimersByTime(4000);
      expect(queue.length).toBe(0);
    });

    test('replaces a longer pending delay with a shorter new one', async () => {
      queue.addAfter('a', 5000);
      jest.advanceTimersByTime(1000);
      queue.addAfter('a', 1000);
      jest.advanceTimersByTime(999);
      expect(queue.length).toBe(0);
      jest.advanceTimersByTime(1);
      expect(await drain(queue)).toEqual(['a']);
      jest.advanceTimersByTime(10_000);
      expect(queue.length).toBe(0);
    });

    test('keeps delays of different keys apart', async () => {
      queue.addAfter('a', 2000);
      queue.addAfter('b', 1000);
      jest.advanceTimersByTime(1000);
      expect(await drain(queue)).toEqual(['b']);
      jest.advanceTimersByTime(1000);
      expect(await drain(queue)).toEqual(['a']);
    });

    test('does not duplicate a key that is already waiting', async () => {
      queue.add('a');
      queue.addAfter('a', 1000);
      jest.advanceTimersByTime(1000);
      expect(queue.length).toBe(1);
      expect(await drain(queue)).toEqual(['a']);
    });
  });

  describe('addRateLimited', () => {
    test('backs off base, 2×base, … capped at max', () => {
      const delays = Array.from({ length: 7 }, () => queue.addRateLimited('a'));
      expect(delays).toEqual([100, 200, 400, 800, 1000, 1000, 1000]);
    });

    test('delivers the key after the backoff delay', async () => {
      expect(queue.addRateLimited('a')).toBe(100);
      jest.advanceTimersByTime(99);
      expect(queue.length).toBe(0);
      jest.advanceTimersByTime(1);
      expect(await drain(queue)).toEqual(['a']);
    });

    test('forget() resets the backoff', () => {
      queue.addRateLimited('a');
      queue.addRateLimited('a');
      queue.addRateLimited('a');
      queue.forget('a');
      expect(queue.addRateLimited('a')).toBe(100);
      expect(queue.addRateLimited('a')).toBe(200);
    });

    test('keeps a backoff per key', () => {
      queue.addRateLimited('a');
      queue.addRateLimited('a');
      expect(queue.addRateLimited('b')).toBe(100);
      queue.forget('b');
      expect(queue.addRateLimited('a')).toBe(400);
    });

    test('uses 500ms up to 5 minutes by default', () => {
      const defaults = new WorkQueue();
      const delays = Array.from({ length: 12 }, () => defaults.addRateLimited('a'));
      defaults.shutDown();
      expect(delays).toEqual([500, 1000, 2000, 4000, 8000, 16_000, 32_000, 64_000, 128_000, 256_000, 300_000, 300_000]);
    });
  });

  describe('shutDown', () => {
    test('releases waiting workers with undefined', async () => {
      const first = queue.get();
      const second = queue.get();
      queue.shutDown();
      expect(queue.isShuttingDown).toBe(true);
      expect(await first).toBeUndefined();
      expect(await second).toBeUndefined();
    });

    test('stops handing out keys that are still waiting', async () => {
      queue.add('a');
      queue.shutDown();
      expect(await queue.get()).toBeUndefined();
    });

    test('ignores new adds', () => {
      queue.shutDown();
      queue.add('a');
      queue.addAfter('b', 0);
      queue.addAfter('c', 100);
      queue.addRateLimited('d');
      jest.advanceTimersByTime(10_000);
      expect(queue.length).toBe(0);
    });

    test('drops pending delays', () => {
      queue.addAfter('a', 1000);
      queue.shutDown();
      jest.advanceTimersByTime(1000);
      expect(queue.length).toBe(0);
      expect(jest.getTimerCount()).toBe(0);
    });

    test('lets a busy worker finish without handing its key out again', async () => {
      queue.add('a');
      expect(await queue.get()).toBe('a');
      queue.add('a');
      queue.shutDown();
      queue.done('a');
      expect(queue.length).toBe(0);
      expect(await queue.get()).toBeUndefined();
    });
  });

  describe('length', () => {
    test('counts waiting keys, not delayed or processing ones', async () => {
      expect(queue.length).toBe(0);
      queue.add('a');
      queue.add('b');
      queue.addAfter('c', 1000);
      expect(queue.length).toBe(2);
      expect(await queue.get()).toBe('a');
      expect(queue.length).toBe(1);
      jest.advanceTimersByTime(1000);
      expect(queue.length).toBe(2);
    });
  });
});

describe('Backoff', () => {
  test.each([
    [100, 1000, [100, 200, 400, 800, 1000, 1000]],
    [500, 300_000, [500, 1000, 2000, 4000, 8000, 16_000]],
    [1000, 1000, [1000, 1000, 1000]],
    [300, 1000, [300, 600, 1000, 1000]],
  ])('base %i, max %i gives %j', (base, max, expected) => {
    const backoff = new Backoff(base, max);
    expect(expected.map(() => backoff.next())).toEqual(expected);
  });

  test('reset() starts again from the base', () => {
    const backoff = new Backoff(100, 1000);
    backoff.next();
    backoff.next();
    backoff.reset();
    expect(backoff.next()).toBe(100);
  });

  test('stays at max after many attempts', () => {
    const backoff = new Backoff(1, 60_000);
    for (let i = 0; i < 100; i++) backoff.next();
    expect(backoff.next()).toBe(60_000);
  });
});

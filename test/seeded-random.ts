// A small seeded pseudo-random source (mulberry32), so a test that draws random numbers
// can print its seed and be replayed exactly. Not for anything but tests.
import type { RandomSource } from '../src/kube/backoff';

export function seededRandom(seed: number): RandomSource {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

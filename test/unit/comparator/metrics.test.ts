import { Examples } from '../../../src/comparator/examples';
import { ComparatorMetrics } from '../../../src/comparator/metrics';

const example = (path: string, differences = ['status 200 != 500']) => ({
  time: '2026-12-01T00:00:00.000Z',
  method: 'GET',
  path,
  differences,
});

async function infoPaths(metrics: ComparatorMetrics): Promise<string[]> {
  const { values } = await metrics.differenceInfo.get();
  return values.map((v) => String(v.labels.path)).sort();
}

describe('difference_info series', () => {
  test('follow the current examples: added, kept while any example has them, removed when none does', async () => {
    const metrics = new ComparatorMetrics('default', [], false);
    const examples = new Examples(2);
    for (const path of ['/a', '/a', '/b']) {
      examples.add(example(path));
      metrics.setExamples(examples.list());
    }
    // [/a, /b]: the older /a left, the newer /a stays.
    expect(await infoPaths(metrics)).toEqual(['/a', '/b']);
    examples.add(example('/c'));
    metrics.setExamples(examples.list());
    expect(await infoPaths(metrics)).toEqual(['/b', '/c']);
  });

  test('cut label values at 200 characters', async () => {
    const metrics = new ComparatorMetrics('default', [], false);
    metrics.setExamples([example(`/${'p'.repeat(300)}`, ['d'.repeat(150), 'e'.repeat(150)])]);
    const labels = (await metrics.differenceInfo.get()).values[0]!.labels as Record<string, string>;
    expect(labels.path).toHaveLength(200);
    expect(labels.difference).toHaveLength(200);
    expect(labels.difference!.endsWith('…')).toBe(true);
  });
});

test('--max-examples=0 keeps none', () => {
  const examples = new Examples(0);
  examples.add(example('/a'));
  expect(examples.list()).toEqual([]);
});

test('the counters of the given methods start at 0, noise ones only with a secondary', async () => {
  const text = await new ComparatorMetrics('r', ['GET'], true).registry.metrics();
  for (const name of ['compared', 'matching', 'differing', 'noise_compared', 'noise_differing'])
    expect(text).toContain(`msop_parallel_run_${name}_total{route="r",method="GET"} 0`);
  expect(await new ComparatorMetrics('r', ['GET'], false).registry.metrics()).not.toContain('noise');
});

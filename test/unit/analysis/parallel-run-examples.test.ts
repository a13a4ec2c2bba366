import { differenceInfoQuery, parallelRunExamples } from '../../../src/analysis/parallel-run-examples';

const series = (labels: Record<string, string>) => ({
  metric: { __name__: 'msop_parallel_run_difference_info', namespace: 'shop', pod: 'orders-comparator-a', ...labels },
});

test('differenceInfoQuery selects the Microservice comparator series', () => {
  expect(differenceInfoQuery('shop', 'orders')).toBe(
    'msop_parallel_run_difference_info{namespace="shop",msop_dev_microservice="orders",msop_dev_track="comparator"}',
  );
});

describe('parallelRunExamples', () => {
  test.each<[string, ReturnType<typeof series>[], number | undefined, string[]]>([
    ['none', [], undefined, []],
    [
      'one, on the default route',
      [series({ route: 'default', method: 'GET', path: '/orders?id=*', difference: 'body $.price: 10 != 11' })],
      undefined,
      ['GET /orders?id=*: body $.price: 10 != 11'],
    ],
    [
      'a named route is shown',
      [series({ route: 'api', method: 'HEAD', path: '/x', difference: 'status 200 != 404' })],
      undefined,
      ['HEAD /x (route api): status 200 != 404'],
    ],
    [
      'the same example from two pods appears once, and the list is sorted',
      [
        series({ route: 'default', method: 'GET', path: '/b', difference: 'status 200 != 500' }),
        series({ route: 'default', method: 'GET', path: '/a', difference: 'status 200 != 500' }),
        {
          metric: {
            ...series({ route: 'default', method: 'GET', path: '/b', difference: 'status 200 != 500' }).metric,
            pod: 'orders-comparator-b',
          },
        },
      ],
      undefined,
      ['GET /a: status 200 != 500', 'GET /b: status 200 != 500'],
    ],
    [
      'at most max',
      ['/1', '/2', '/3'].map((path) =>
        series({ route: 'default', method: 'GET', path, difference: 'status 200 != 500' }),
      ),
      2,
      ['GET /1: status 200 != 500', 'GET /2: status 200 != 500'],
    ],
    ['series missing labels are skipped', [series({ route: 'default', method: 'GET' })], undefined, []],
  ])('%s', (_name, input, max, lines) => {
    expect(parallelRunExamples(input, max)).toEqual(lines);
  });

  test('at most five by default', () => {
    const many = Array.from({ length: 8 }, (_, i) =>
      series({ route: 'default', method: 'GET', path: `/${i}`, difference: 'status 200 != 500' }),
    );
    expect(parallelRunExamples(many)).toHaveLength(5);
  });
});

import { canonicalQuantity, compareQuantities, QuantityError } from '../../../src/render/quantity';

// Expected values are what the API server (k8s.io/apimachinery resource.Quantity) stores for each spelling;
// test/cluster/idempotence.test.ts checks a sample of them against a real one.
test.each<[string | number, string]>([
  ['0', '0'],
  ['0m', '0'],
  ['0.0Gi', '0'],
  ['-0', '0'],
  [0, '0'],
  [1, '1'],
  [2048, '2048'],
  ['1', '1'],
  ['+1', '1'],
  ['01', '1'],
  ['1.', '1'],
  ['.5', '500m'],
  ['0.5', '500m'],
  ['1.5', '1500m'],
  ['1000m', '1'],
  ['1500m', '1500m'],
  ['100m', '100m'],
  ['0.1', '100m'],
  ['10', '10'],
  ['100', '100'],
  ['1000', '1k'],
  ['1500000', '1500k'],
  ['2000000', '2M'],
  ['1k', '1k'],
  ['1000k', '1M'],
  ['1M', '1M'],
  ['1G', '1G'],
  ['1E', '1E'],
  ['1e3', '1e3'],
  ['1E3', '1e3'],
  ['1e+3', '1e3'],
  ['10e2', '1e3'],
  ['1e2', '100'],
  ['1e-3', '1e-3'],
  ['1.5e3', '1500'],
  ['15e2', '1500'],
  ['1e0', '1'],
  ['1e6', '1e6'],
  ['12e6', '12e6'],
  ['0.9n', '1n'],
  ['1.5n', '2n'],
  ['1n', '1n'],
  ['1000n', '1u'],
  ['1u', '1u'],
  ['1000u', '1m'],
  ['0.000001', '1u'],
  ['0.0000000001', '1n'],
  ['1Ki', '1Ki'],
  ['1024', '1024'],
  ['1024Mi', '1Gi'],
  ['1.5Gi', '1536Mi'],
  ['2048Ki', '2Mi'],
  ['1536Mi', '1536Mi'],
  ['1Ei', '1Ei'],
  ['1024Ei', '9223372036854775807'],
  ['0.5Ki', '512'],
  ['0.1Ki', '102400m'],
  ['1.1Ki', '1126400m'],
  ['1023Ki', '1023Ki'],
  ['0.5Mi', '512Ki'],
  ['0.0009765625Ki', '1'],
  ['-1', '-1'],
  ['-1.5', '-1500m'],
  ['-2Gi', '-2Gi'],
  ['123456789012345678901234567890', '123456789012345678901234567890'],
])('%p is stored as %p', (spelling, canonical) => {
  expect(canonicalQuantity(spelling)).toBe(canonical);
});

test.each(['', '.', '+', 'abc', '1Q', '1e', '1e1.5', '1ki', '1 Gi', '1Mi5'])('%p is no quantity', (text) => {
  expect(() => canonicalQuantity(text)).toThrow(QuantityError);
});

test.each<[string | number, string | number, number]>([
  ['1', '1000m', 0],
  ['0.5', '501m', -1],
  ['1Gi', '1073741824', 0],
  ['1Gi', '1G', 1],
  ['1e3', '1k', 0],
  [2, '1999m', 1],
  ['1n', '0', 1],
])('%p compares with %p as %p', (a, b, expected) => {
  expect(compareQuantities(a, b)).toBe(expected);
});

// Five projects: `unit` is pure and fast; `cluster` talks to the local control plane
// started by `make cluster-up` (see docs/testing.md); `e2e` adds a real Prometheus,
// simulated app versions and traffic (see docs/testing-e2e.md); `chaos` kills the
// operator, the API server and Prometheus mid-release (hack/test-chaos.sh); `node` runs
// real containers on a real node (`make node-up`, see docs/testing.md).
const transform = { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2023' } }] };
module.exports = {
  projects: [
    { displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'], transform, testEnvironment: 'node' },
    {
      displayName: 'cluster',
      testMatch: ['<rootDir>/test/cluster/**/*.test.ts'],
      transform,
      testEnvironment: 'node',
      globalSetup: '<rootDir>/test/cluster/global-setup.ts',
      slowTestThreshold: 60,
      setupFilesAfterEnv: ['<rootDir>/test/cluster/setup.ts'],
    },
    {
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/e2e/**/*.test.ts'],
      transform,
      testEnvironment: 'node',
      globalSetup: '<rootDir>/test/cluster/global-setup.ts',
      slowTestThreshold: 120,
      setupFilesAfterEnv: ['<rootDir>/test/e2e/setup.ts'],
    },
    {
      displayName: 'chaos',
      testMatch: ['<rootDir>/test/chaos/**/*.test.ts'],
      transform,
      testEnvironment: 'node',
      globalSetup: '<rootDir>/test/cluster/global-setup.ts',
      slowTestThreshold: 600,
      setupFilesAfterEnv: ['<rootDir>/test/chaos/setup.ts'],
    },
    {
      displayName: 'node',
      testMatch: ['<rootDir>/test/node/**/*.test.ts'],
      transform,
      testEnvironment: 'node',
      globalSetup: '<rootDir>/test/node/global-setup.ts',
      slowTestThreshold: 300,
      setupFilesAfterEnv: ['<rootDir>/test/node/setup.ts'],
    },
  ],
};

// Two projects: `unit` is pure and fast; `cluster` talks to the local control plane
// started by `make cluster-up` (see docs/testing.md).
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
  ],
};

import { killOperatorProcesses } from './harness';

// Each wait inside a cluster test has its own deadline (eventually); this only bounds a whole test.
jest.setTimeout(120_000);
afterAll(killOperatorProcesses);

import { killOperatorProcesses } from '../cluster/harness';

// A chaos file runs many releases in one test (50 SIGKILLs in the full run); each wait inside has its own
// deadline, this only bounds a whole file's test.
jest.setTimeout(45 * 60_000);
afterAll(killOperatorProcesses);

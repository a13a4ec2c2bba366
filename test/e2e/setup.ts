// An end-to-end scenario waits for real scrapes and for enough requests to judge (scenario 5 takes about a
// minute); each wait inside has its own deadline, this only bounds a whole test.
jest.setTimeout(300_000);

// Real pods start in seconds, and a zero-downtime scenario runs a whole release under load;
// each wait inside has its own deadline, this only bounds a whole test.
jest.setTimeout(600_000);

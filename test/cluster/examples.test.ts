// Every example under examples/ is accepted by the API server as it stands
// (schema and CEL rules), so the docs never show a Microservice that would be refused.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { createNamespace, kubectlResult } from './harness';

const dir = path.join(__dirname, '..', '..', 'examples');
let ns: Awaited<ReturnType<typeof createNamespace>>;

beforeAll(async () => {
  ns = await createNamespace('examples');
});

afterAll(async () => {
  await ns?.cleanup();
});

test.each(readdirSync(dir).filter((f) => f.endsWith('.yaml')))(
  'examples/%s passes a server-side dry run',
  async (file) => {
    const result = await kubectlResult('apply', '--dry-run=server', '-n', ns.name, '-f', path.join(dir, file));
    expect(result).toMatchObject({ code: 0 });
  },
);

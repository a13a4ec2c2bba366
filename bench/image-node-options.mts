// The NODE_OPTIONS the image runs the operator with (the Dockerfile's ENV), so that the benchmarks run
// msop as it ships.
import { readFileSync } from 'node:fs';
import path from 'node:path';

export function imageNodeOptions(): string {
  const dockerfile = readFileSync(path.join(import.meta.dirname, '..', 'Dockerfile'), 'utf8');
  const found = /^ENV NODE_OPTIONS=(.+)$/m.exec(dockerfile);
  if (!found) throw new Error('the Dockerfile sets no ENV NODE_OPTIONS=…; bench/image-node-options.mts reads it');
  return found[1]!.trim();
}

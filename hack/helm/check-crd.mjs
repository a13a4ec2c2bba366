// The chart ships the CRD in helm/msop/crds/ as a byte-identical copy of
// crds/microservice.yaml (the single source of truth). A symlink would not do:
// Argo CD and Flux refuse charts from git whose symlinks point outside the chart.
// `node hack/helm/check-crd.mjs` fails when the copy drifted; `--fix` copies it.
import { copyFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const source = path.join(root, 'crds', 'microservice.yaml');
const copy = path.join(root, 'helm', 'msop', 'crds', 'microservice.yaml');

if (process.argv.includes('--fix')) {
  copyFileSync(source, copy);
  process.exit(0);
}
let same = false;
try {
  same = readFileSync(source).equals(readFileSync(copy));
} catch {
  // A missing copy differs.
}
if (!same) {
  console.error(
    'helm/msop/crds/microservice.yaml differs from crds/microservice.yaml: run `make helm-crd` to copy it.',
  );
  process.exit(1);
}

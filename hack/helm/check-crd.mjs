// The chart ships the CRDs in helm/msop/crds/ as byte-identical copies of crds/*.yaml
// (the single source of truth). A symlink would not do: Argo CD and Flux refuse charts
// from git whose symlinks point outside the chart.
// `node hack/helm/check-crd.mjs` fails when a copy drifted; `--fix` copies them.
import { copyFileSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const files = readdirSync(path.join(root, 'crds')).filter((f) => f.endsWith('.yaml'));
const copies = readdirSync(path.join(root, 'helm', 'msop', 'crds')).filter((f) => f.endsWith('.yaml'));
const fix = process.argv.includes('--fix');
let failed = false;
for (const file of files) {
  const source = path.join(root, 'crds', file);
  const copy = path.join(root, 'helm', 'msop', 'crds', file);
  if (fix) {
    copyFileSync(source, copy);
    continue;
  }
  let same = false;
  try {
    same = readFileSync(source).equals(readFileSync(copy));
  } catch {
    // A missing copy differs.
  }
  if (!same) {
    console.error(`helm/msop/crds/${file} differs from crds/${file}: run \`make helm-crd\` to copy it.`);
    failed = true;
  }
}
for (const file of copies.filter((f) => !files.includes(f))) {
  console.error(`helm/msop/crds/${file} has no source in crds/: remove it.`);
  failed = true;
}
if (failed) process.exit(1);

// Prints one CustomResourceDefinition, by name, from a multi-document YAML file.
import { readFileSync } from 'node:fs';
import { dump, loadAll } from 'js-yaml';

const [file, name] = process.argv.slice(2);
const found = loadAll(readFileSync(file, 'utf8')).find((doc) => doc?.kind === 'CustomResourceDefinition' && doc.metadata?.name === name);
if (!found) {
  console.error(`extract-crd: no CustomResourceDefinition ${name} in ${file}`);
  process.exit(1);
}
process.stdout.write(dump(found, { lineWidth: -1 }));

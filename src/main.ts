// Entry point of msop's one program. `msop comparator ...` is the parallel-run comparator
// (src/comparator); anything else runs the operator (src/operator.ts). Each mode loads only its
// own modules, so a comparator pod starts without the operator's Kubernetes client.
const mode =
  process.argv[2] === 'comparator'
    ? import('./comparator/main.js').then((m) => m.runComparator(process.argv.slice(3)))
    : import('./operator.js').then((m) => m.runOperator());

mode.catch((err: unknown) => {
  console.error(`msop: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});

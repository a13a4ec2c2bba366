#!/usr/bin/env node
// What holds msop's heap: the retained size of each object of msop's own
// classes (Informer, EventRecorder, ...) in a V8 heap snapshot, from the
// dominator tree, grouped by class and, for informers, by kind.
//
//   NODE_OPTIONS=--heapsnapshot-signal=SIGUSR2 node dist/main.js ...
//   kill -USR2 <pid>        # writes Heap.<date>.<pid>.heapsnapshot in its cwd
//   node --max-old-space-size=8192 hack/heap-summary.mjs Heap.*.heapsnapshot [Class ...]
import { readFileSync } from 'node:fs';

const [file, ...wanted] = process.argv.slice(2);
if (!file) {
  console.error('usage: heap-summary.mjs FILE.heapsnapshot [ClassName ...]');
  process.exit(2);
}
const snapshot = JSON.parse(readFileSync(file, 'utf8'));
const { meta } = snapshot.snapshot;
const nodeFields = meta.node_fields.length;
const edgeFields = meta.edge_fields.length;
const [nodeTypes] = meta.node_types;
const [edgeTypes] = meta.edge_types;
const { nodes, edges, strings } = snapshot;
const count = nodes.length / nodeFields;
const at = (field) => meta.node_fields.indexOf(field);
const [TYPE, NAME, SELF, EDGES] = ['type', 'name', 'self_size', 'edge_count'].map(at);
const [EDGE_TYPE, EDGE_NAME, EDGE_TO] = ['type', 'name_or_index', 'to_node'].map((f) => meta.edge_fields.indexOf(f));
const WEAK = edgeTypes.indexOf('weak');
const SHORTCUT = edgeTypes.indexOf('shortcut');

// Each node's first edge, and its successors, skipping weak edges (they retain nothing).
const firstEdge = new Uint32Array(count + 1);
for (let n = 0, e = 0; n < count; n += 1) {
  firstEdge[n] = e;
  e += nodes[n * nodeFields + EDGES] * edgeFields;
}
firstEdge[count] = edges.length;
const successors = (n, visit) => {
  for (let e = firstEdge[n]; e < firstEdge[n + 1]; e += edgeFields) {
    const type = edges[e + EDGE_TYPE];
    if (type !== WEAK && type !== SHORTCUT) visit(edges[e + EDGE_TO] / nodeFields, e);
  }
};

// Depth-first order from the root (node 0), then predecessors, then dominators (Cooper, Harvey and Kennedy).
const order = new Int32Array(count).fill(-1);
const postorder = new Uint32Array(count);
let reached = 0;
{
  const stack = [0];
  const next = new Uint32Array(count);
  const seen = new Uint8Array(count);
  seen[0] = 1;
  for (let n = 0; n < count; n += 1) next[n] = firstEdge[n];
  while (stack.length > 0) {
    const n = stack[stack.length - 1];
    let pushed = false;
    while (next[n] < firstEdge[n + 1]) {
      const e = next[n];
      next[n] += edgeFields;
      const type = edges[e + EDGE_TYPE];
      if (type === WEAK || type === SHORTCUT) continue;
      const to = edges[e + EDGE_TO] / nodeFields;
      if (seen[to]) continue;
      seen[to] = 1;
      stack.push(to);
      pushed = true;
      break;
    }
    if (!pushed) {
      stack.pop();
      order[n] = reached;
      postorder[reached] = n;
      reached += 1;
    }
  }
}
const predecessors = Array.from({ length: count }, () => []);
for (let n = 0; n < count; n += 1) if (order[n] >= 0) successors(n, (to) => order[to] >= 0 && predecessors[to].push(n));
const idom = new Int32Array(count).fill(-1);
idom[0] = 0;
const intersect = (a, b) => {
  while (a !== b) {
    while (order[a] < order[b]) a = idom[a];
    while (order[b] < order[a]) b = idom[b];
  }
  return a;
};
for (let changed = true; changed;) {
  changed = false;
  for (let i = reached - 2; i >= 0; i -= 1) {
    const n = postorder[i];
    let dom = -1;
    for (const p of predecessors[n]) if (idom[p] !== -1) dom = dom === -1 ? p : intersect(p, dom);
    if (dom !== -1 && idom[n] !== dom) {
      idom[n] = dom;
      changed = true;
    }
  }
}
// Retained size: a node's own size plus what it dominates, summed children first (postorder).
const retained = new Float64Array(count);
for (let i = 0; i < reached; i += 1) {
  const n = postorder[i];
  retained[n] += nodes[n * nodeFields + SELF];
  if (n !== 0) retained[idom[n]] += retained[n];
}

const name = (n) => strings[nodes[n * nodeFields + NAME]];
const type = (n) => nodeTypes[nodes[n * nodeFields + TYPE]];
const mib = (bytes) => (bytes / 1024 / 1024).toFixed(1);
const classes = wanted.length > 0 ? new Set(wanted) : undefined;
const byClass = new Map();
for (let n = 0; n < count; n += 1) {
  if (type(n) !== 'object' || order[n] < 0) continue;
  const cls = name(n);
  if (classes ? !classes.has(cls) : retained[n] < 1024 * 1024) continue;
  const entry = byClass.get(cls) ?? { objects: 0, retained: 0 };
  entry.objects += 1;
  entry.retained += retained[n];
  byClass.set(cls, entry);
}
console.log(`heap ${mib(retained[0])} MiB retained from the root, ${count} nodes`);
console.log('class\tobjects\tretained MiB');
for (const [cls, { objects, retained: r }] of [...byClass].sort((a, b) => b[1].retained - a[1].retained))
  console.log(`${cls}\t${objects}\t${mib(r)}`);

// For each Informer, its `kind` property (a string field), to tell them apart.
const stringValue = (n) => (type(n) === 'string' || type(n) === 'concatenated string' ? name(n) : undefined);
for (let n = 0; n < count; n += 1) {
  if (type(n) !== 'object' || name(n) !== 'Informer' || order[n] < 0) continue;
  let kind = '?';
  successors(n, (to, e) => {
    const edgeName = strings[edges[e + EDGE_NAME]];
    if ((edgeName === 'kind' || edgeName === 'path') && stringValue(to) && kind === '?') kind = stringValue(to);
  });
  console.log(`Informer ${kind}\t${mib(retained[n])} MiB`);
}

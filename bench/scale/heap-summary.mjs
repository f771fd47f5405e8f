// Where a heap snapshot's bytes are, for docs/scale/README.md's "Memory per
// task": self size by class (type:constructor), the dominator tree down to
// what retains at least --min of the heap (many children of one class
// summed), the Buffers by what holds them and whether they view an 8 KiB pool
// slab, and the plain objects that hold a task's parts, by property names.
//
//   node --max-old-space-size=12000 bench/scale/heap-summary.mjs FILE [--min 0.004] [--depth 14]
//
// A master writes FILE on SIGUSR2 when started with --heapsnapshot-signal=SIGUSR2
// (bench:scale --master_node_args '--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=DIR').
// Dominators: Cooper, Harvey and Kennedy's iteration over the post order, as Chrome's DevTools computes them.
import { readSnapshot } from './heap-read.mjs';

const args = process.argv.slice(2);
const flag = (name, dflt) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : dflt);
const file = args[0];
if (!file || file.startsWith('--')) throw new Error('usage: heap-summary.mjs FILE [--min 0.004] [--depth 14]');
const { meta, nodes, edges, strings, nf, ef } = readSnapshot(file);
const N = nodes.length / nf;
const nodeTypes = meta.node_types[0], edgeTypes = meta.edge_types[0];
const [T, NM, SZ, EC] = ['type', 'name', 'self_size', 'edge_count'].map((f) => meta.node_fields.indexOf(f));
const [ET, EN, TO] = ['type', 'name_or_index', 'to_node'].map((f) => meta.edge_fields.indexOf(f));
const [WEAK, ELEMENT, HIDDEN, INTERNAL] = ['weak', 'element', 'hidden', 'internal'].map((t) => edgeTypes.indexOf(t));
const first = new Uint32Array(N + 1);
for (let i = 0; i < N; i++) first[i + 1] = first[i] + nodes[i * nf + EC];
const type = (n) => nodeTypes[nodes[n * nf + T]];
const size = (n) => nodes[n * nf + SZ];
const target = (e) => edges[e * ef + TO] / nf;
const cls = (n) => {
  const t = type(n);
  if (t.includes('string') || t === 'number' || t === 'code') return `(${t})`;
  const nm = strings[nodes[n * nf + NM]];
  return `${t}:${nm.length > 60 ? nm.slice(0, 60) + '…' : nm}`;
};
const edgeName = (e) => (edges[e * ef + ET] === ELEMENT || edges[e * ef + ET] === HIDDEN ? `[${edges[e * ef + EN]}]` : String(strings[edges[e * ef + EN]]));
const MB = (x) => (x / 1048576).toFixed(1);

let total = 0;
const bySelf = new Map();
for (let n = 0; n < N; n++) {
  const r = bySelf.get(cls(n)) ?? [0, 0];
  r[0] += size(n); r[1]++; total += size(n);
  bySelf.set(cls(n), r);
}
console.log(`total self size ${MB(total)} MB in ${N} nodes`);
console.log('\n== self size by class (top 30): MB, count, class ==');
for (const [c, [s, k]] of [...bySelf].sort((a, b) => b[1][0] - a[1][0]).slice(0, 30)) console.log(`${MB(s).padStart(8)} ${String(k).padStart(9)}  ${c}`);

// Post order from the root (node 0) over strong edges.
const NONE = 0xffffffff;
const po = new Uint32Array(N).fill(NONE), order = new Uint32Array(N), stackN = new Uint32Array(N), stackE = new Uint32Array(N), seen = new Uint8Array(N);
let sp = 1, count = 0;
stackE[0] = first[0]; seen[0] = 1;
while (sp > 0) {
  const n = stackN[sp - 1], e = stackE[sp - 1];
  if (e < first[n + 1]) {
    stackE[sp - 1] = e + 1;
    if (edges[e * ef + ET] === WEAK) continue;
    const to = target(e);
    if (!seen[to]) { seen[to] = 1; stackN[sp] = to; stackE[sp] = first[to]; sp++; }
  } else { po[n] = count; order[count++] = n; sp--; }
}
// Retainers by post order, then the dominators.
const rc = new Uint32Array(count + 1);
const strongEdges = (n, f) => { for (let e = first[n]; e < first[n + 1]; e++) if (edges[e * ef + ET] !== WEAK) f(e); };
for (let n = 0; n < N; n++) if (po[n] !== NONE) strongEdges(n, (e) => rc[po[target(e)] + 1]++);
for (let i = 0; i < count; i++) rc[i + 1] += rc[i];
const fill = rc.slice(0, count), ret = new Uint32Array(rc[count]);
for (let n = 0; n < N; n++) if (po[n] !== NONE) strongEdges(n, (e) => { ret[fill[po[target(e)]]++] = po[n]; });
const root = count - 1;
const dom = new Uint32Array(count).fill(NONE);
dom[root] = root;
for (let changed = true; changed;) {
  changed = false;
  for (let b = root - 1; b >= 0; b--) {
    let idom = NONE;
    for (let k = rc[b]; k < rc[b + 1]; k++) {
      let a = ret[k];
      if (dom[a] === NONE) continue;
      if (idom === NONE) { idom = a; continue; }
      let c = idom;
      while (a !== c) { while (a < c) a = dom[a]; while (c < a) c = dom[c]; }
      idom = a;
    }
    if (idom !== NONE && dom[b] !== idom) { dom[b] = idom; changed = true; }
  }
}
const retained = new Float64Array(count);
for (let i = 0; i < count; i++) retained[i] += size(order[i]);
for (let i = 0; i < root; i++) if (dom[i] !== NONE) retained[dom[i]] += retained[i];
const kids = new Map();
for (let i = 0; i < root; i++) if (dom[i] !== NONE) (kids.get(dom[i]) ?? kids.set(dom[i], []).get(dom[i])).push(i);
const nameFrom = (d, c) => { for (let e = first[order[d]]; e < first[order[d] + 1]; e++) if (target(e) === order[c]) return edgeName(e); return '?'; };
const minShow = total * flag('--min', 0.004), depthMax = flag('--depth', 14);
console.log(`\n== dominator tree: what retains >= ${MB(minShow)} MB (MB retained, edge from its dominator, class) ==`);
const walk = (p, depth) => {
  const all = kids.get(p) ?? [];
  for (const k of all.filter((k) => retained[k] >= minShow).sort((a, b) => retained[b] - retained[a]).slice(0, 12)) {
    console.log(`${'  '.repeat(depth)}${MB(retained[k])} MB  .${nameFrom(p, k)}  ${cls(order[k])}`);
    if (depth < depthMax) walk(k, depth + 1);
  }
  if (all.length <= 50) return;
  const sums = new Map();
  for (const k of all) { const r = sums.get(cls(order[k])) ?? [0, 0]; r[0] += retained[k]; r[1]++; sums.set(cls(order[k]), r); }
  for (const [c, [s, n]] of [...sums].sort((a, b) => b[1][0] - a[1][0]).slice(0, 5)) if (s >= minShow) console.log(`${'  '.repeat(depth)}  [${n} of ${c}: ${MB(s)} MB, ${(s / n).toFixed(0)} B each]`);
};
walk(root, 0);

// Buffers by what holds them, and the size of the ArrayBuffer they view (8192: a pool slab).
const viewed = (n) => {
  for (let e = first[n]; e < first[n + 1]; e++) {
    if (cls(target(e)) !== 'object:ArrayBuffer') continue;
    const ab = target(e);
    for (let f = first[ab]; f < first[ab + 1]; f++) if (cls(target(f)) === 'native:system / JSArrayBufferData') return [ab, size(target(f))];
    return [ab, 0];
  }
  return [null, 0];
};
const holders = new Map(), slabs = new Map();
for (let n = 0; n < N; n++) strongEdges(n, (e) => {
  const b = target(e);
  if (cls(b) !== 'object:Buffer') return;
  const [ab, bytes] = viewed(b);
  const key = `${bytes === 8192 ? 'in a pool slab' : `own ${bytes} B`} <- ${cls(n)} .${edgeName(e)}`;
  holders.set(key, (holders.get(key) ?? 0) + 1);
  if (bytes === 8192) slabs.set(ab, 1);
});
console.log(`\n== Buffers by holder (top 15); ${slabs.size} pool slabs (${MB(slabs.size * 8192)} MB) viewed ==`);
for (const [k, c] of [...holders].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`${String(c).padStart(9)}  ${k}`);

// Plain objects shared (dominated by the root) or under a large Map, by their first property names.
const props = (n) => {
  const ps = [];
  for (let e = first[n]; e < first[n + 1]; e++) { const t = edges[e * ef + ET]; if (t !== ELEMENT && t !== HIDDEN && t !== INTERNAL && edgeName(e) !== 'map') ps.push(edgeName(e)); }
  return ps.slice(0, 6).join(',') + (ps.length > 6 ? `,…(${ps.length})` : '');
};
const bySig = new Map();
for (let i = 0; i < root; i++) {
  if (dom[i] === NONE || cls(order[i]) !== 'object:Object') continue;
  const where = dom[i] === root ? 'shared' : cls(order[dom[i]]) === 'array:' && retained[dom[i]] > total / 20 ? 'in a large Map' : null;
  if (!where) continue;
  const key = `${where}: ${props(order[i])}`;
  const r = bySig.get(key) ?? { k: 0, ret: 0 };
  r.k++; r.ret += retained[i];
  bySig.set(key, r);
}
console.log('\n== plain objects, shared or in a large Map, by property names: count, MB retained, B each ==');
for (const [s, r] of [...bySig].sort((a, b) => b[1].ret - a[1].ret).slice(0, 12)) console.log(`${String(r.k).padStart(8)} ${MB(r.ret).padStart(8)} ${(r.ret / r.k).toFixed(0).padStart(6)}  ${s}`);

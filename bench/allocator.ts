// bench/allocator: one full allocation pass as agents and frameworks grow,
// for every built-in policy side by side, and the memory each allocator
// holds. Every agent is free at the start of a pass (everything offered is
// recovered between passes), so each pass places every agent.
//
//   npm run bench:allocator                    (tsx --expose-gc bench/allocator.ts)
//   npx tsx --expose-gc bench/allocator.ts --quick --policies drf,binpack
//
// Frameworks are spread over 10 roles weighted 1, 2 and 3. `drf+quota` is
// drf with a guarantee on two roles (a tenth of the cluster each, one also
// with a limit): its passes run the guarantee stage and the headroom checks.
// Reference: Apache Mesos's hierarchical allocator took about 1 s for one
// pass over 10,000 agents and 1,000 frameworks (its 2018 benchmarks); the
// target here is 100 ms.
import { createAllocator } from '../master/allocator/index.js';
import type { AllocatorOptions } from '../master/allocator/allocator.js';
import { Resources } from '../common/resources.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const policyArg = args[args.indexOf('--policies') + 1];
const POLICIES = args.includes('--policies') && policyArg ? policyArg.split(',') : ['drf', 'drf+quota', 'binpack', 'spread', 'fifo', 'random'];
const SIZES: [agents: number, frameworks: number][] = quick
  ? [[1_000, 100], [10_000, 1_000]]
  : [[1_000, 100], [1_000, 1_000], [10_000, 100], [10_000, 1_000], [50_000, 100], [50_000, 1_000]];
const ROLES = 10;
const PASSES = quick ? 3 : 5;
/** Each agent its own Resources, as agents registering each bring theirs (so the heap figures are honest). */
const agentTotal = () => Resources.scalars({ cpus: 16, mem: 65536, disk: 100000 });
const gc = (globalThis as { gc?: () => void }).gc;

function options(policy: string, agents: number): AllocatorOptions {
  const weights = new Map(Array.from({ length: ROLES }, (_, r) => [`role-${r}`, 1 + (r % 3)] as const));
  if (policy !== 'drf+quota') return { weights };
  const tenth = (extra: Record<string, number> = {}) => Resources.scalars({ cpus: agents * 1.6, mem: agents * 6553.6, ...extra });
  const quotas = new Map([
    ['role-0', { guarantee: tenth() }],
    ['role-1', { guarantee: tenth(), limit: Resources.scalars({ cpus: agents * 3.2 }) }],
  ]);
  return { weights, quotas };
}

interface Result {
  readonly medianMs: number;
  readonly offers: number;
  readonly heapMB: number;
  readonly rssMB: number;
}

function run(policy: string, agents: number, frameworks: number): Result {
  gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const alloc = createAllocator(policy.replace('+quota', ''), options(policy, agents));
  for (let i = 0; i < agents; i++) alloc.addAgent(`agent-${i}`, agentTotal());
  for (let f = 0; f < frameworks; f++) alloc.addFramework(`fw-${f}`, { roles: [`role-${f % ROLES}`] });
  const times: number[] = [];
  let offers = 0;
  // Pass 0 warms up the JIT and is not timed: we measure the steady state.
  for (let p = 0; p <= PASSES; p++) {
    const t0 = performance.now();
    const decisions = alloc.allocate(p);
    if (p > 0) times.push(performance.now() - t0);
    offers = decisions.length;
    for (const d of decisions) alloc.recoverResources(d.frameworkId, d.agentId, d.resources, 0, p);
  }
  times.sort((a, b) => a - b);
  gc?.();
  const memory = process.memoryUsage();
  const result = { medianMs: times[Math.floor(times.length / 2)]!, offers, heapMB: (memory.heapUsed - heapBefore) / 2 ** 20, rssMB: memory.rss / 2 ** 20 };
  if (alloc.name === '') console.log(alloc); // keeps the allocator alive until after the measurement
  return result;
}

const results = new Map<string, Result>();
const key = (policy: string, agents: number, frameworks: number) => `${policy}@${agents}x${frameworks}`;
// Warm-up, not reported: every policy's code is compiled before the first measured size.
for (const policy of POLICIES) run(policy, 1_000, 100);
for (const [agents, frameworks] of SIZES) {
  for (const policy of POLICIES) {
    process.stderr.write(`${policy}: ${agents} agents x ${frameworks} frameworks (${PASSES} passes)...\n`);
    results.set(key(policy, agents, frameworks), run(policy, agents, frameworks));
  }
}

const pad = (s: string | number, n: number) => String(s).padStart(n);
const table = (title: string, cell: (r: Result) => string) => {
  console.log(`\n${title}`);
  console.log(`${pad('agents', 8)}${pad('frameworks', 12)}${POLICIES.map((p) => pad(p, 11)).join('')}`);
  for (const [agents, frameworks] of SIZES) {
    console.log(`${pad(agents, 8)}${pad(frameworks, 12)}${POLICIES.map((p) => pad(cell(results.get(key(p, agents, frameworks))!), 11)).join('')}`);
  }
};
table(`ms per full pass (median of ${PASSES}; every agent offered)`, (r) => r.medianMs.toFixed(1));
table('offers per pass', (r) => String(r.offers));
table(`heap held by the allocator, MB (heapUsed delta${gc ? ', after gc' : '; run with --expose-gc for exact figures'})`, (r) => r.heapMB.toFixed(1));
table('process RSS after the run, MB', (r) => r.rssMB.toFixed(0));

// How time grows: each size against the smallest, per policy.
const [base] = SIZES;
console.log(`\ngrowth of ms/pass relative to ${base![0]} agents x ${base![1]} frameworks`);
console.log(`${pad('agents', 8)}${pad('frameworks', 12)}${POLICIES.map((p) => pad(p, 11)).join('')}`);
for (const [agents, frameworks] of SIZES) {
  const cells = POLICIES.map((p) => {
    const r = results.get(key(p, agents, frameworks))!.medianMs / results.get(key(p, base![0], base![1]))!.medianMs;
    return pad(`${r.toFixed(1)}x`, 11);
  });
  console.log(`${pad(agents, 8)}${pad(frameworks, 12)}${cells.join('')}`);
}
const target = results.get(key('drf', 10_000, 1_000));
if (target) console.log(`\ndrf at 10,000 agents x 1,000 frameworks: ${target.medianMs.toFixed(1)} ms per pass (target < 100 ms; Mesos ~1 s)`);

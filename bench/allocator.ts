// bench/allocator: time of one full allocation pass as agents and
// frameworks grow. Every agent is free at the start of a pass (everything
// offered is recovered between passes), so each pass places every agent.
//   npx tsx bench/allocator.ts [--quick]
// Reference: Apache Mesos's hierarchical allocator took about 1 s for one
// pass over 10,000 agents and 1,000 frameworks (its 2018 benchmarks).
import { createAllocator } from '../master/allocator/index.js';
import { Resources } from '../common/resources.js';

const quick = process.argv.includes('--quick');
const SIZES: [agents: number, frameworks: number][] = quick
  ? [[1_000, 100], [10_000, 1_000]]
  : [[1_000, 100], [1_000, 1_000], [10_000, 100], [10_000, 1_000], [50_000, 100], [50_000, 1_000]];
const ROLES = 10;
const PASSES = quick ? 3 : 5;

function run(agents: number, frameworks: number): { medianMs: number; heapMB: number; offers: number } {
  const alloc = createAllocator('drf');
  const total = Resources.parse('cpus:16;mem:65536;disk:100000');
  for (let i = 0; i < agents; i++) alloc.addAgent(`agent-${i}`, total);
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
  return { medianMs: times[Math.floor(times.length / 2)]!, heapMB: process.memoryUsage().heapUsed / 2 ** 20, offers };
}

console.log(`${'agents'.padStart(8)}${'frameworks'.padStart(12)}${'ms/pass'.padStart(10)}${'offers'.padStart(9)}${'heap MB'.padStart(10)}`);
for (const [agents, frameworks] of SIZES) {
  process.stderr.write(`running ${agents} agents x ${frameworks} frameworks (${PASSES} passes)...\n`);
  const r = run(agents, frameworks);
  console.log(`${String(agents).padStart(8)}${String(frameworks).padStart(12)}${r.medianMs.toFixed(1).padStart(10)}${String(r.offers).padStart(9)}${r.heapMB.toFixed(0).padStart(10)}`);
}

// bench/host-restarts: how long a master and an agent take to answer /health
// when restarted on simulated hosts, and how much of it they spent waiting
// for a CPU (the machine's load, not the process).
//
// Two hosts (test/harness/hosts.ts): a master on m1, an agent (mesos
// containerizer) on a1, as ProcessGroup starts them. Each round SIGKILLs the
// agent and starts it again on the same work_dir, then does the same to the
// master, and prints for each start: wall time to /health, the main thread's
// run-queue wait in it (/proc/PID/schedstat), its CPU time, the load
// average; at the end the median and the largest, and how many starts would
// have failed a 30 s wall-clock wait (the harness's old limit). Add load
// with busy loops beside it to see a loaded machine:
//   for i in 1 2 3 4; do (while :; do :; done) & done   # kill them by pid afterwards
//   npx tsx bench/host-restarts.ts [--rounds 10]
import { readFileSync } from 'node:fs';
import { HostNetwork } from '../test/harness/hosts.js';
import { ProcessGroup, type AgentProc, type MasterProc } from '../test/harness/processes.js';
import { procSample } from '../common/proc-stats.js';
import { parseFlags, type FlagSpecs } from '../common/flags.js';

const FLAGS = {
  rounds: { type: 'number', default: 10, help: 'restarts of each' },
} as const satisfies FlagSpecs;
const OLD_LIMIT_MS = 30_000;

interface Start {
  readonly which: 'agent' | 'master';
  readonly wallMs: number;
  readonly waitMs: number;
  readonly cpuMs: number;
}

async function main(): Promise<void> {
  const flags = parseFlags(FLAGS, process.argv.slice(2));
  const net = await HostNetwork.create(['m1', 'a1']);
  const group = new ProcessGroup();
  const starts: Start[] = [];
  try {
    const [m1, a1] = [net.host('m1'), net.host('a1')];
    const startMaster = () => group.spawnMaster('master', ['--allocation_interval=0.5s'], { host: m1 });
    const startAgent = (master: MasterProc) => group.spawnAgent('agent', [`--master=${master.grpcAddress}`, '--containerizers=mesos', '--resources=cpus:1;mem:512'], { host: a1 });
    let master = await startMaster();
    let agent: AgentProc = await startAgent(master);
    for (let round = 1; round <= flags.rounds; round++) {
      agent = await restart(agent, () => startAgent(master), 'agent', starts);
      master = await restart(master, startMaster, 'master', starts);
    }
  } finally {
    await group.stopAll();
    const left = await net.destroy();
    if (left.length) console.log(`left: ${left.join(', ')}`);
  }
  summarize(starts);
}

/** SIGKILLs `old`, starts its successor and records the start's figures. */
async function restart<P extends MasterProc | AgentProc>(old: P, start: () => Promise<P>, which: Start['which'], starts: Start[]): Promise<P> {
  old.signal('SIGKILL');
  await old.exited;
  const t0 = Date.now();
  const started = await start();
  const wallMs = Date.now() - t0;
  const sample = procSample(started.pid);
  // The whole life of the new process is this start: its counters began at zero.
  const figures = { which, wallMs, waitMs: (sample?.runQueueSeconds ?? 0) * 1000, cpuMs: (sample?.cpuSeconds ?? 0) * 1000 };
  starts.push(figures);
  console.log(`${which}: /health after ${ms(wallMs)}, ${ms(figures.waitMs)} of it waiting for a CPU, ${ms(figures.cpuMs)} of CPU; load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
  return started;
}

function summarize(starts: readonly Start[]): void {
  for (const which of ['agent', 'master'] as const) {
    const mine = starts.filter((s) => s.which === which);
    if (mine.length === 0) continue;
    const walls = mine.map((s) => s.wallMs).sort((a, b) => a - b);
    const share = mine.reduce((a, s) => a + s.waitMs, 0) / mine.reduce((a, s) => a + s.wallMs, 0);
    const late = mine.filter((s) => s.wallMs > OLD_LIMIT_MS).length;
    console.log(`${which}: ${mine.length} starts, median ${ms(walls[Math.floor(walls.length / 2)]!)}, largest ${ms(walls.at(-1)!)}, `
      + `${(share * 100).toFixed(0)}% of the wall time waiting for a CPU; ${late} over a 30 s wall-clock limit`);
  }
}

const ms = (n: number) => `${(n / 1000).toFixed(1)} s`;

await main();

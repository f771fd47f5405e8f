// bench/agent-recovery: an agent process running N tasks (real containers)
// is SIGKILLed and started again, several times. Printed per round and as
// medians: the time from the restart until the agent has recovered its
// checkpoint ("recovered agent" in its log), until the master sees it
// re-registered and the agent has every task's container back (RUNNING,
// with its container id, in the agent's /state), and the agent's resident memory
// (RSS) with N tasks before the kill. The master runs in this process.
//   npx tsx bench/agent-recovery.ts [--tasks 100] [--rounds 3]
import Docker from 'dockerode';
import { readFileSync } from 'node:fs';
import { startMaster } from '../master/main.js';
import { ProcessGroup, type AgentProc } from '../test/harness/processes.js';
import { RawScheduler, commandTask } from '../test/harness/grpc-scheduler.js';
import { waitUntil } from '../test/harness/wait-until.js';
import { parseFlags, type FlagSpecs } from '../common/flags.js';
import type { OfferOut } from '../proto/index.js';

const FLAGS = {
  tasks: { type: 'number', default: 100, help: 'running tasks on the agent' },
  rounds: { type: 'number', default: 3, help: 'SIGKILL + restart rounds' },
} as const satisfies FlagSpecs;

const TARGET_S = 2;
const say = (line: string) => process.stdout.write(line + '\n');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const rssMiB = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;

async function main(): Promise<void> {
  const flags = parseFlags(FLAGS, process.argv.slice(2));
  const n = flags.tasks;
  const group = new ProcessGroup();
  const master = await startMaster({ port: 0, grpc_port: 0, allocation_interval: 0.1, quiet: true }, () => {});
  const agentFlags = [`--master=${master.grpcAddress}`, `--resources=cpus:${Math.max(2, n * 0.01 + 1)};mem:${n * 8 + 256};disk:100;ports:[31980-31989]`];
  const stop = async () => {
    await master.stop();
    await group.stopAll();
  };
  process.once('SIGINT', () => void stop().then(() => process.exit(130)));
  try {
    let agent: AgentProc = await group.spawnAgent('agent', agentFlags);
    await waitUntil(() => [...master.master.agents.values()].some((a) => a.connected), 20_000, 'the agent to register');
    const agentId = [...master.master.agents.keys()][0]!;
    const s = new RawScheduler(master.grpcAddress);
    s.autoAcknowledge = true;
    await s.subscribe({ name: 'recovery-bench', user: 'root' });
    const offer = (await s.next((e) => e.type === 'OFFERS')).offers!.offers[0] as OfferOut;
    say(`launching ${n} tasks (sleep 3600, cpus:0.01;mem:8) on one agent...`);
    const started = Date.now();
    await s.launch(offer, Array.from({ length: n }, (_, i) => commandTask(`t${i}`, offer, 'sleep 3600', 'cpus:0.01;mem:8')));
    const running = () => master.master.tasks.ofAgent(agentId).filter((t) => t.state === 'TASK_RUNNING').length;
    let shown = -1;
    await waitUntil(() => {
      const r = running();
      if (r !== shown && (r % 10 === 0 || r === n)) process.stdout.write(`\r  ${r}/${n} running (${((Date.now() - started) / 1000).toFixed(0)} s)`);
      shown = r;
      return r === n;
    }, n * 2000, `${n} tasks to run`);
    say('');

    const rows: { rss: number; recovered: number; reregistered: number }[] = [];
    for (let round = 1; round <= flags.rounds; round++) {
      const rss = rssMiB(agent.pid);
      agent.signal('SIGKILL');
      await agent.exited;
      const before = master.master.agents.get(agentId)!.reregisteredTime ?? 0;
      const t0 = performance.now();
      agent = await group.spawnAgent('agent', agentFlags);
      let recovered = NaN;
      void agent.waitForLine(/recovered agent/, 60_000).then(() => (recovered = (performance.now() - t0) / 1000));
      // Re-registered, and every container taken back (the agent's /state shows its id again).
      const reattached = async () => {
        type Executor = { container: string; tasks: { state: string }[] };
        const st = (await (await fetch(`http://${agent.httpAddress}/state`)).json()) as { frameworks: { executors: Executor[] }[] };
        return st.frameworks.flatMap((f) => f.executors).filter((e) => e.container && e.tasks.some((t) => t.state === 'TASK_RUNNING')).length;
      };
      await waitUntil(async () => {
        const a = master.master.agents.get(agentId);
        return !!a?.connected && (a.reregisteredTime ?? 0) > before && running() === n && (await reattached()) === n;
      }, 60_000, 'the agent to re-register with every task');
      const reregistered = (performance.now() - t0) / 1000;
      await waitUntil(() => !Number.isNaN(recovered), 10_000, 'the recovery log line');
      const containers = await new Docker().listContainers({ filters: { label: [`mesos-ts.work_dir=${agent.workDir}`] } });
      const ids = new Set(containers.map((c) => c.Labels['mesos-ts.task_id']));
      if (containers.length !== n || ids.size !== n) throw new Error(`round ${round}: ${containers.length} containers for ${ids.size} tasks, expected ${n}`);
      rows.push({ rss, recovered, reregistered });
      say(`round ${round}/${flags.rounds}: RSS before the kill ${rss.toFixed(1)} MiB; recovered ${recovered.toFixed(2)} s, ` +
        `re-registered with ${n} tasks RUNNING ${reregistered.toFixed(2)} s after the restart; ${containers.length} containers, none duplicated`);
    }
    s.close();
    say('');
    say(`agent with ${n} running tasks, SIGKILL and restart (${flags.rounds} rounds; times include starting node)`);
    say(`  agent RSS with ${n} tasks           median ${median(rows.map((r) => r.rss)).toFixed(1)} MiB`);
    say(`  checkpoint recovered              median ${median(rows.map((r) => r.recovered)).toFixed(2)} s`);
    const rereg = median(rows.map((r) => r.reregistered));
    say(`  re-registered, all tasks RUNNING  median ${rereg.toFixed(2)} s`);
    say(`target: under ${TARGET_S} s to recover ${n} tasks: ${rereg.toFixed(2)} s -> ${rereg < TARGET_S ? 'MET' : 'MISSED'}`);
  } finally {
    say('removing the tasks...');
    await stop();
  }
}

main().catch((err) => {
  process.stderr.write(`bench/agent-recovery: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});

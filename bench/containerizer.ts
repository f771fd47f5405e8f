// bench/containerizer: time from ACCEPT to TASK_RUNNING on one agent process
// that runs both containerizers (--containerizers=docker,mesos), the Docker
// engine and the mesos containerizer (runc) interleaved in the same sitting:
// single tasks launched one after another, then bursts of N tasks accepted at
// once. Printed per containerizer (median and p90 of single launches; the
// burst's median and time until all N run) and the ratio docker / mesos.
// Two baselines run in the same rounds (bench/plain-launch.ts): plain
// dockerode create+start and plain `runc run -d` of the same bundle.
// bench/launch.ts runs the same four ways with the agent in process, with
// the launch trace; this one runs the agent as its own process, as deployed.
// The master runs in this process; every task is killed and its container
// removed before the next round.
//   npx tsx bench/containerizer.ts [--tasks 20] [--singles 5] [--rounds 2]
import { startMaster } from '../master/main.js';
import { ProcessGroup } from '../test/harness/processes.js';
import { RawScheduler, TEST_IMAGE, commandTask, isUpdate } from '../test/harness/grpc-scheduler.js';
import { waitUntil } from '../test/harness/wait-until.js';
import { removeOciContainers } from '../test/harness/oci.js';
import { parseFlags, type FlagSpecs } from '../common/flags.js';
import { Resources } from '../common/resources.js';
import type { EventOut, OfferOut, TaskInfoIn } from '../proto/index.js';
import { join } from 'node:path';
import { plainLaunches } from './plain-launch.js';

const FLAGS = {
  tasks: { type: 'number', default: 20, help: 'tasks per burst (accepted at once)' },
  singles: { type: 'number', default: 5, help: 'single-task launches per containerizer and round' },
  rounds: { type: 'number', default: 2, help: 'rounds, each running docker then mesos' },
} as const satisfies FlagSpecs;

type Kind = 'docker' | 'mesos';
const KINDS: readonly Kind[] = ['docker', 'mesos'];
/** Each task's share: 0.1 cpu, as bench/launch.ts. At 0.01 the container's own start-up (runc init, docker-init) ran under a 1 ms / 100 ms CFS quota and the engine's figures measured the throttling. */
const CPUS = 0.1;
const RESOURCES = `cpus:${CPUS};mem:32`;

const say = (line: string) => process.stdout.write(line + '\n');
const quantile = (xs: readonly number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * q))]!;
const ms = (x: number) => `${x.toFixed(0)} ms`;

function task(kind: Kind, id: string, offer: OfferOut): TaskInfoIn {
  const base = commandTask(id, offer, 'sleep 3600', RESOURCES);
  return kind === 'docker' ? base : { ...base, container: { type: 'MESOS', mesos: { image: { type: 'DOCKER', docker: { name: TEST_IMAGE } } } } };
}

async function main(): Promise<void> {
  const flags = parseFlags(FLAGS, process.argv.slice(2));
  const n = flags.tasks;
  const group = new ProcessGroup();
  const master = await startMaster({ port: 0, grpc_port: 0, allocation_interval: 0.05, quiet: true }, () => {});
  const agent = await group.spawnAgent('agent', [
    `--master=${master.grpcAddress}`, `--resources=cpus:${n * CPUS + 2};mem:${n * 32 + 512};disk:100;ports:[31990-31999]`,
    '--containerizers=docker,mesos', '--kill_grace_period=0s',
  ]);
  const stop = async () => {
    await master.stop();
    for (const p of group.processes()) p.signal('SIGKILL');
    await removeOciContainers([agent.workDir]);
    await group.stopAll();
  };
  process.once('SIGINT', () => void stop().then(() => process.exit(130)));
  try {
    await waitUntil(() => [...master.master.agents.values()].some((a) => a.connected), 20_000, 'the agent to register');
    const agentId = [...master.master.agents.keys()][0]!;
    const s = new RawScheduler(master.grpcAddress);
    s.autoAcknowledge = true;
    const arrived = new Map<EventOut, number>();
    const push = s.events.push.bind(s.events);
    s.events.push = (...events: EventOut[]) => {
      for (const e of events) arrived.set(e, performance.now());
      return push(...events);
    };
    await s.subscribe({ name: 'containerizer-bench', user: 'root' });
    const used = new Set<string>();
    /** Every offer not yet used or rescinded, once together they hold `count` tasks: an ACCEPT takes them all. */
    const offersFor = async (count: number): Promise<OfferOut[]> => {
      const outstanding = () => {
        const rescinded = new Set(s.events.filter((e) => e.type === 'RESCIND').map((e) => e.rescind?.offer_id?.value));
        return s.events.flatMap((e) => (e.type === 'OFFERS' ? e.offers!.offers : [])).filter((o) => !used.has(o.id!.value) && !rescinded.has(o.id!.value));
      };
      const holds = (offers: OfferOut[]) => {
        const total = offers.reduce((sum, o) => sum.add(Resources.fromProto(o.resources)), Resources.EMPTY);
        return total.scalar('cpus') >= count * CPUS - 1e-9 && total.scalar('mem') >= count * 32;
      };
      await waitUntil(() => holds(outstanding()), 60_000, `offers for ${count} task(s)`);
      const offers = outstanding();
      for (const o of offers) used.add(o.id!.value);
      return offers;
    };
    let seq = 0;
    /** Launches `count` tasks at once; the ACCEPT -> RUNNING time of each, then kills them all and waits until they are gone. */
    const launch = async (kind: Kind, count: number): Promise<number[]> => {
      const offers = await offersFor(count);
      const ids = Array.from({ length: count }, () => `${kind}-${seq++}`);
      const sent = performance.now();
      await s.call('Accept', {
        type: 'ACCEPT',
        accept: { offer_ids: offers.map((o) => o.id!), operations: [{ type: 'LAUNCH', launch: { task_infos: ids.map((id) => task(kind, id, offers[0]!)) } }], filters: { refuse_seconds: 0 } },
      });
      const times: number[] = [];
      for (const id of ids) {
        const running = await s.next((e) => isUpdate(id, 'TASK_RUNNING')(e) || isUpdate(id, 'TASK_FAILED')(e), 120_000);
        if (running.update!.status!.state !== 'TASK_RUNNING') throw new Error(`${id}: ${running.update!.status!.state} ${running.update!.status!.message ?? ''}`);
        times.push(arrived.get(running)! - sent);
      }
      for (const id of ids) void s.call('Kill', { type: 'KILL', kill: { task_id: { value: id }, agent_id: { value: agentId } } });
      for (const id of ids) await s.next(isUpdate(id, 'TASK_KILLED'), 60_000);
      return times;
    };
    const plain = plainLaunches(join(group.dir, 'plain'), { cpus: CPUS, memMiB: 32 });
    const plainTimes = { dockerode: [] as number[], runc: [] as number[] };
    const singles: Record<Kind, number[]> = { docker: [], mesos: [] };
    const bursts: Record<Kind, { median: number; all: number }[]> = { docker: [], mesos: [] };
    // A first launch of each warms the image store (the mesos containerizer unpacks its image once).
    for (const kind of KINDS) await launch(kind, 1);
    for (let round = 1; round <= flags.rounds; round++) {
      for (const kind of KINDS) {
        for (let i = 0; i < flags.singles; i++) singles[kind].push(...(await launch(kind, 1)));
        for (let i = 0; i < flags.singles; i++) plainTimes[kind === 'docker' ? 'dockerode' : 'runc'].push(await (kind === 'docker' ? plain.dockerode() : plain.runc()));
        const burst = await launch(kind, n);
        bursts[kind].push({ median: quantile(burst, 0.5), all: Math.max(...burst) });
        say(`round ${round} ${kind.padEnd(6)}: single median ${ms(quantile(singles[kind].slice(-flags.singles), 0.5))}; burst of ${n}: median ${ms(quantile(burst, 0.5))}, all RUNNING after ${ms(Math.max(...burst))}`);
      }
    }
    say('');
    say(`ACCEPT -> TASK_RUNNING on one agent (${flags.rounds} rounds, interleaved; ${flags.singles * flags.rounds} single launches and ${flags.rounds} bursts of ${n} per containerizer)`);
    say('containerizer | single median | single p90 | burst median | burst all RUNNING (median of rounds)');
    const row = (kind: Kind) => ({
      single: quantile(singles[kind], 0.5), p90: quantile(singles[kind], 0.9),
      burst: quantile(bursts[kind].map((b) => b.median), 0.5), all: quantile(bursts[kind].map((b) => b.all), 0.5),
    });
    const rows = { docker: row('docker'), mesos: row('mesos') };
    for (const kind of KINDS) {
      const r = rows[kind];
      say(`${kind.padEnd(13)} | ${ms(r.single).padStart(13)} | ${ms(r.p90).padStart(10)} | ${ms(r.burst).padStart(12)} | ${ms(r.all).padStart(8)}`);
    }
    say(`plain dockerode create+start: median ${ms(quantile(plainTimes.dockerode, 0.5))}; plain runc run -d: median ${ms(quantile(plainTimes.runc, 0.5))}`);
    say(`mesos containerizer / plain runc run -d: ${(rows.mesos.single / quantile(plainTimes.runc, 0.5)).toFixed(2)}x; docker containerizer / plain dockerode: ${(rows.docker.single / quantile(plainTimes.dockerode, 0.5)).toFixed(2)}x`);
    say(`ratio docker / mesos: single ${(rows.docker.single / rows.mesos.single).toFixed(2)}x, burst of ${n} all RUNNING ${(rows.docker.all / rows.mesos.all).toFixed(2)}x`);
    s.close();
  } finally {
    await stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

// bench/launch: what mesos-ts adds on top of the Docker engine when it
// launches a container task.
//
// Launches N tasks one at a time through master + agent + SDK, timing from
// the ACCEPT call to the framework seeing TASK_RUNNING, and, in the same run
// and interleaved in rounds, N plain dockerode create+start calls of the same
// image with the same limits. Prints median and p95 of both and the ratios.
//   npx tsx bench/launch.ts [--tasks 50] [--rounds 5]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { startMaster } from '../master/main.js';
import { startAgent } from '../agent/main.js';
import { Scheduler, dockerTask, silentLogger, type OfferOut, type TaskStatusOut } from '../framework/sdk/index.js';
import { Resources } from '../common/resources.js';
import { parseFlags } from '../common/flags.js';

const IMAGE = 'mesos-ts/busybox:latest';
const FLAGS = {
  tasks: { type: 'number', default: 50, help: 'tasks launched each way' },
  rounds: { type: 'number', default: 5, help: 'the two ways alternate in this many rounds' },
} as const;

const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};

async function main(): Promise<void> {
  const flags = parseFlags(FLAGS, process.argv.slice(2));
  const base = mkdtempSync(join(tmpdir(), 'mesos-ts-bench-'));
  const docker = new Docker();
  const master = await startMaster({ port: 0, grpc_port: 0, quiet: true });
  const agent = await startAgent({
    master: master.grpcAddress, port: 0, work_dir: join(base, 'agent'), resources: 'cpus:64;mem:65536;disk:1000;ports:[32000-32999]',
    docker_pull: 'never', quiet: true, log: () => {},
  });
  const scheduler = new Scheduler({ master: master.grpcAddress, framework: { name: 'bench-launch' }, logger: silentLogger });
  const offers: OfferOut[] = [];
  const running = new Map<string, () => void>();
  scheduler.on('offers', (e) => offers.push(...e.offers));
  scheduler.on('rescind', (e) => offers.splice(0, offers.length, ...offers.filter((o) => o.id?.value !== e.offerId)));
  scheduler.on('update', (e: { status: TaskStatusOut }) => {
    if (e.status.state === 'TASK_RUNNING') running.get(e.status.task_id!.value)?.();
  });
  await scheduler.start();

  const ours: number[] = [];
  const raw: number[] = [];
  const rawIds: string[] = [];
  const perRound = Math.ceil(flags.tasks / flags.rounds);
  const demand = Resources.parse('cpus:0.1;mem:16');
  try {
    for (let round = 0; round < flags.rounds; round++) {
      for (let i = 0; i < perRound && ours.length < flags.tasks; i++) {
        const offer = await takeOffer(offers);
        const taskId = `bench-${ours.length}`;
        const task = dockerTask({ taskId, agentId: offer.agent_id!.value, resources: demand, image: IMAGE, command: 'sleep 600' });
        const seen = new Promise<void>((resolve) => running.set(taskId, resolve));
        const t0 = performance.now();
        await scheduler.launch(offer, [task], { refuseSeconds: 0 });
        await seen;
        ours.push(performance.now() - t0);
      }
      for (let i = 0; i < perRound && raw.length < flags.tasks; i++) {
        const t0 = performance.now();
        const c = await docker.createContainer({
          Image: IMAGE, Cmd: ['/bin/sh', '-c', 'sleep 600'], Labels: { 'mesos-ts.work_dir': base },
          // The agent's container settings, so the two differ only by what mesos-ts adds.
          HostConfig: {
            NetworkMode: 'host', NanoCpus: 1e8, Memory: 16 * 1024 * 1024, MemorySwap: 16 * 1024 * 1024, Init: true, PidsLimit: 1024,
            LogConfig: { Type: 'none', Config: {} },
          },
        });
        await c.start();
        raw.push(performance.now() - t0);
        rawIds.push(c.id);
      }
      process.stderr.write(`round ${round + 1}/${flags.rounds}: ${ours.length} mesos-ts tasks RUNNING, ${raw.length} plain containers started\n`);
    }
  } finally {
    await scheduler.teardown().catch(() => {});
    await agent.stop({ killTasks: true });
    await master.stop();
    for (const id of rawIds) await docker.getContainer(id).remove({ force: true }).catch(() => {});
    rmSync(base, { recursive: true, force: true });
  }
  const row = (name: string, xs: number[]) => `${name.padEnd(34)}${percentile(xs, 50).toFixed(1).padStart(10)}${percentile(xs, 95).toFixed(1).padStart(10)}`;
  console.log(`\n${'launch path (ms)'.padEnd(34)}${'median'.padStart(10)}${'p95'.padStart(10)}`);
  console.log(row(`mesos-ts ACCEPT -> TASK_RUNNING`, ours));
  console.log(row(`dockerode create + start`, raw));
  const r50 = percentile(ours, 50) / percentile(raw, 50);
  const r95 = percentile(ours, 95) / percentile(raw, 95);
  console.log(`${'ratio mesos-ts / docker'.padEnd(34)}${r50.toFixed(2).padStart(10)}${r95.toFixed(2).padStart(10)}   (target: median <= 1.15)`);
  console.log(`${ours.length} tasks each way, ${flags.rounds} interleaved rounds`);
}

async function takeOffer(offers: OfferOut[]): Promise<OfferOut> {
  const deadline = Date.now() + 30_000;
  while (offers.length === 0) {
    if (Date.now() > deadline) throw new Error('no offer within 30 s');
    await new Promise((r) => setTimeout(r, 5));
  }
  return offers.shift()!;
}

await main();

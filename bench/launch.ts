// bench/launch: what mesos-ts adds on top of the Docker engine when it
// launches a container task.
//
// Launches N tasks one at a time through master + agent + SDK, timing from
// the ACCEPT call to the framework seeing TASK_RUNNING, and, in the same run
// and interleaved in rounds, N plain dockerode create+start calls of the same
// image with the same limits. Prints median and p95 of both and the ratios,
// and where a launch spends its time: the hops of the launch trace
// (common/launch-trace.ts), each as the median time since ACCEPT and the
// median step from the hop before it, and what is left of a launch once the
// engine's own create and start calls are taken out (mesos-ts's part, much
// steadier than the ratio on a busy engine).
// --tls runs master, agent and scheduler over mutual TLS and --authenticate
// with credentials on every call: run beside a plain run for what security
// adds to a launch (the plain dockerode figure in each run is the yardstick).
//   npx tsx bench/launch.ts [--tasks 50] [--rounds 5] [--tls] [--authenticate]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { startMaster } from '../master/main.js';
import { startAgent } from '../agent/main.js';
import { Scheduler, dockerTask, silentLogger, type OfferOut, type TaskStatusOut } from '../framework/sdk/index.js';
import { Resources } from '../common/resources.js';
import { parseFlags } from '../common/flags.js';
import { onLaunchHop } from '../common/launch-trace.js';
import { tlsConfig } from '../common/tls.js';
import { makeCerts } from '../test/harness/certs.js';

const IMAGE = 'mesos-ts/busybox:latest';
const FLAGS = {
  tasks: { type: 'number', default: 50, help: 'tasks launched each way' },
  rounds: { type: 'number', default: 5, help: 'the two ways alternate in this many rounds' },
  tls: { type: 'boolean', default: false, help: 'mutual TLS between scheduler, master and agent' },
  authenticate: { type: 'boolean', default: false, help: 'the master authenticates the framework and the agent; both present credentials' },
} as const;

const CREDENTIAL = { principal: 'bench', secret: 'bench-secret' };

const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};

async function main(): Promise<void> {
  const flags = parseFlags(FLAGS, process.argv.slice(2));
  const base = mkdtempSync(join(tmpdir(), 'mesos-ts-bench-'));
  const docker = new Docker();
  const certs = flags.tls ? makeCerts('mesos-ts-bench-certs-') : null;
  const serverTls = certs ? { ssl_enabled: true, ssl_ca_file: certs.ca, ssl_cert_file: certs.serverCert, ssl_key_file: certs.serverKey, ssl_require_client_cert: true } : {};
  const clientTls = certs ? tlsConfig({ ssl_enabled: true, ssl_ca_file: certs.ca, ssl_cert_file: certs.clientCert, ssl_key_file: certs.clientKey }, 'client') : null;
  const authentication = flags.authenticate
    ? { authenticate_frameworks: true, authenticate_agents: true, credentials: JSON.stringify({ credentials: [CREDENTIAL] }) } : {};
  const master = await startMaster({ port: 0, grpc_port: 0, quiet: true, ...serverTls, ...authentication });
  const agent = await startAgent({
    master: master.grpcAddress, port: 0, work_dir: join(base, 'agent'), resources: 'cpus:64;mem:65536;disk:1000;ports:[32000-32999]',
    docker_pull: 'never', quiet: true, log: () => {}, ...serverTls, ...(flags.authenticate ? { credential: JSON.stringify(CREDENTIAL) } : {}),
  });
  const scheduler = new Scheduler({
    master: master.grpcAddress, framework: { name: 'bench-launch' }, logger: silentLogger, tls: clientTls, ...(flags.authenticate ? { credential: CREDENTIAL } : {}),
  });
  const offers: OfferOut[] = [];
  const running = new Map<string, () => void>();
  scheduler.on('offers', (e) => offers.push(...e.offers));
  scheduler.on('rescind', (e) => offers.splice(0, offers.length, ...offers.filter((o) => o.id?.value !== e.offerId)));
  scheduler.on('update', (e: { status: TaskStatusOut }) => {
    if (e.status.state === 'TASK_RUNNING') running.get(e.status.task_id!.value)?.();
  });
  await scheduler.start();

  // Per task: when it passed each hop (the first time), relative to its ACCEPT.
  const hops = new Map<string, Map<string, number>>();
  const started = new Map<string, number>();
  const stopTracing = onLaunchHop(({ taskId, hop, at }) => {
    const t0 = started.get(taskId);
    const seen = hops.get(taskId);
    if (t0 === undefined || !seen || seen.has(hop)) return;
    seen.set(hop, at - t0);
  });
  const ours: number[] = [];
  const totals = new Map<string, number>();
  const raw: number[] = [];
  const rawSteps = { create: [] as number[], start: [] as number[] };
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
        hops.set(taskId, new Map());
        const t0 = performance.now();
        started.set(taskId, t0);
        await scheduler.launch(offer, [task], { refuseSeconds: 0 });
        await seen;
        ours.push(performance.now() - t0);
        totals.set(taskId, performance.now() - t0);
        started.delete(taskId); // later hops (its kill) are not part of the launch
      }
      for (let i = 0; i < perRound && raw.length < flags.tasks; i++) {
        const t0 = performance.now();
        const c = await docker.createContainer({
          Image: IMAGE, Cmd: ['/bin/sh', '-c', 'sleep 600'], Labels: { 'mesos-ts.work_dir': base },
          // The agent's container settings (agent/driver/docker.ts), so the two differ only by what mesos-ts adds.
          HostConfig: {
            NetworkMode: 'host', NanoCpus: 1e8, Memory: 16 * 1024 * 1024, MemorySwap: 16 * 1024 * 1024, Init: true, PidsLimit: 1024,
            LogConfig: { Type: 'local', Config: { 'max-size': '8m', 'max-file': '1', compress: 'false' } },
          },
        });
        const created = performance.now();
        await c.start();
        const done = performance.now();
        raw.push(done - t0);
        rawSteps.create.push(created - t0);
        rawSteps.start.push(done - created);
        rawIds.push(c.id);
      }
      process.stderr.write(`round ${round + 1}/${flags.rounds}: ${ours.length} mesos-ts tasks RUNNING, ${raw.length} plain containers started\n`);
    }
  } finally {
    stopTracing();
    await scheduler.teardown().catch(() => {});
    await agent.stop({ killTasks: true });
    await master.stop();
    for (const id of rawIds) await docker.getContainer(id).remove({ force: true }).catch(() => {});
    rmSync(base, { recursive: true, force: true });
    if (certs) rmSync(certs.dir, { recursive: true, force: true });
  }
  const row = (name: string, xs: number[]) => `${name.padEnd(34)}${percentile(xs, 50).toFixed(1).padStart(10)}${percentile(xs, 95).toFixed(1).padStart(10)}`;
  console.log(`\n${'launch path (ms)'.padEnd(34)}${'median'.padStart(10)}${'p95'.padStart(10)}`);
  console.log(row(`mesos-ts ACCEPT -> TASK_RUNNING`, ours));
  console.log(row(`dockerode create + start`, raw));
  const r50 = percentile(ours, 50) / percentile(raw, 50);
  const r95 = percentile(ours, 95) / percentile(raw, 95);
  console.log(`${'ratio mesos-ts / docker'.padEnd(34)}${r50.toFixed(2).padStart(10)}${r95.toFixed(2).padStart(10)}   (target: median <= 1.10)`);
  console.log(`${ours.length} tasks each way, ${flags.rounds} interleaved rounds; TLS ${flags.tls ? 'on (mutual)' : 'off'}, authentication ${flags.authenticate ? 'on' : 'off'}`);
  printHops(hops, rawSteps);
  printOwnTime(hops, totals, raw);
}

/** Each launch minus the engine's create and start calls as the agent made them ('docker: creating' -> 'created', 'starting' -> 'started'). */
function printOwnTime(hops: Map<string, Map<string, number>>, totals: Map<string, number>, raw: number[]): void {
  const engine: number[] = [];
  const own: number[] = [];
  for (const [taskId, seen] of hops) {
    const [creating, created, starting, startedAt] = ['creating', 'created', 'starting', 'started'].map((h) => seen.get(`docker: ${h}`));
    const total = totals.get(taskId);
    if (creating === undefined || created === undefined || starting === undefined || startedAt === undefined || total === undefined) continue;
    engine.push(created - creating + (startedAt - starting));
    own.push(total - engine.at(-1)!);
  }
  if (own.length === 0) return;
  const row = (name: string, xs: number[]) => `  ${name.padEnd(52)}${percentile(xs, 50).toFixed(1).padStart(8)}${percentile(xs, 95).toFixed(1).padStart(9)}`;
  console.log(`\n${'split (ms)'.padEnd(54)}${'median'.padStart(8)}${'p95'.padStart(9)}`);
  console.log(row('engine create + start calls, made by the agent', engine));
  console.log(row('engine create + start calls, plain dockerode', raw));
  console.log(row('mesos-ts: the rest of ACCEPT -> TASK_RUNNING', own));
}

/**
 * The launch trace: hops in the order of their median time since ACCEPT. A hop's step is the time
 * since the hop its task passed just before it (each task's own order; concurrent hops interleave),
 * so along one task the steps add up to its launch time.
 */
function printHops(hops: Map<string, Map<string, number>>, rawSteps: { create: number[]; start: number[] }): void {
  const at = new Map<string, number[]>();
  const steps = new Map<string, number[]>();
  for (const seen of hops.values()) {
    let before = 0;
    for (const [hop, t] of [...seen].sort((a, b) => a[1] - b[1])) {
      at.set(hop, [...(at.get(hop) ?? []), t]);
      steps.set(hop, [...(steps.get(hop) ?? []), t - before]);
      before = t;
    }
  }
  const order = [...at].map(([hop, ts]) => ({ hop, at: percentile(ts, 50), n: ts.length })).sort((a, b) => a.at - b.at);
  console.log(`\n${'launch trace (ms, median)'.padEnd(42)}${'since ACCEPT'.padStart(13)}${'step'.padStart(8)}`);
  for (const { hop, at, n } of order) {
    const step = percentile(steps.get(hop)!, 50).toFixed(1);
    console.log(`  ${hop.padEnd(40)}${at.toFixed(1).padStart(13)}${step.padStart(8)}${n < hops.size ? `   (${n} of ${hops.size} tasks)` : ''}`);
  }
  console.log(`  ${'(plain dockerode: create'.padEnd(40)}${percentile(rawSteps.create, 50).toFixed(1).padStart(13)}   start ${percentile(rawSteps.start, 50).toFixed(1)})`);
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

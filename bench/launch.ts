// bench/launch: what mesos-ts adds on top of the container runtime when it
// launches a task, through either containerizer, in one sitting.
//
// One agent runs both containerizers (--containerizers=docker,mesos). In
// interleaved rounds, five ways of starting the same container (busybox
// `sleep`, 0.1 cpu, 32 MiB, as nobody) are timed one launch at a time:
//   mesos-ts docker   ACCEPT -> TASK_RUNNING, ContainerInfo DOCKER (master + agent + SDK)
//   mesos-ts mesos    ACCEPT -> TASK_RUNNING, ContainerInfo MESOS (runc, no Docker engine)
//   dockerode         plain create + start with the Docker driver's settings
//   runc run -d       plain, of a bundle made as the mesos containerizer makes it, without a seccomp filter
//   runc run -d, agent's seccomp   the same, with the seccomp filter and capabilities of the agent's own
//                     config.json (read from its first mesos task): like with like for the mesos way
// Then bursts of --burst tasks accepted at once (each containerizer), and
// --burst plain `runc run -d`, all at once and at most
// --launch_parallelism at a time (as the agent's mesos containerizer starts
// them): the time until all run.
// Prints median and p95 of each way, the ratios the targets are set on, and
// where a launch spends its time: the hops of the launch trace
// (common/launch-trace.ts) per containerizer, each as the median time since
// ACCEPT and the median step from the hop before it.
// --tls runs master, agent and scheduler over mutual TLS and --authenticate
// with credentials on every call: run beside a plain run for what security
// adds to a launch.
//   npx tsx bench/launch.ts [--tasks 50] [--rounds 5] [--burst 100] [--launch_parallelism K] [--no-docker_burst]
//                           [--root_pool 4] [--tls] [--authenticate]
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import Docker from 'dockerode';
import { availableParallelism, constants as osConstants, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMaster, type RunningMaster } from '../master/main.js';
import { startAgent, type RunningAgent } from '../agent/main.js';
import { LABEL } from '../agent/task-spec.js';
import { LAUNCH_PARALLELISM } from '../agent/driver/oci/oci.js';
import { InvalidArgument } from '../common/errors.js';
import { mountsUnder, unmountUnder } from '../common/hosts/engine-leftovers.js';
import { Scheduler, silentLogger } from '../framework/sdk/index.js';
import { parseFlags, usage, type Flags } from '../common/flags.js';
import { tlsConfig } from '../common/tls.js';
import { makeCerts } from '../test/harness/certs.js';
import { OCI_REGISTRY, removeOciContainers } from '../test/harness/oci.js';
import { PLAIN_LABEL, plainLaunches, type PlainLaunches } from './plain-launch.js';
import { BenchTasks } from './launch-tasks.js';
import { report, WAYS, type Results, type Way } from './launch-report.js';

const FLAGS = {
  tasks: { type: 'number', default: 50, help: 'launches each way' },
  rounds: { type: 'number', default: 5, help: 'the five ways alternate in this many rounds' },
  burst: { type: 'number', default: 100, help: 'tasks accepted at once in each burst (0: no bursts)' },
  launch_parallelism: {
    type: 'number', default: LAUNCH_PARALLELISM,
    help: `the agent's --oci_launch_parallelism, and the bound of the like-with-like plain runc burst (default: the agent's, ${LAUNCH_PARALLELISM} on ${availableParallelism()} cpus)`,
  },
  docker: { type: 'boolean', default: true, help: 'the Docker ways too (--no-docker: the mesos containerizer and plain runc only, for a machine without a Docker engine)' },
  docker_burst: { type: 'boolean', default: true, help: 'also a burst through the docker containerizer (--no-docker_burst: mesos and plain runc only)' },
  root_pool: { type: 'number', default: 4, help: "the agent's --oci_root_pool (0: every launch mounts its own root)" },
  tls: { type: 'boolean', default: false, help: 'mutual TLS between scheduler, master and agent' },
  authenticate: { type: 'boolean', default: false, help: 'the master authenticates the framework and the agent; both present credentials' },
  fail_after: { type: 'number', help: "for the clean-up's test: fail on purpose once this many tasks (counted from the start) reached TASK_RUNNING, the last still running" },
} as const;
type BenchFlags = Flags<typeof FLAGS>;

const CREDENTIAL = { principal: 'bench', secret: 'bench-secret' };
const LIMITS = { cpus: 0.1, memMiB: 32 };

async function main(): Promise<void> {
  const flags = parseFlags(FLAGS, process.argv.slice(2), { env: process.env });
  if (flags.help) {
    process.stdout.write(usage('bench:launch', 'ACCEPT -> TASK_RUNNING through both containerizers, beside plain runc and dockerode, interleaved.', FLAGS).replace('mesos-ts bench:launch', 'npx tsx bench/launch.ts') + '\n');
    return;
  }
  if (flags._.length > 0) throw new InvalidArgument(`unexpected argument '${flags._[0]}' (see --help)`);
  if (!Number.isInteger(flags.launch_parallelism) || flags.launch_parallelism < 1) {
    throw new InvalidArgument(`--launch_parallelism must be a positive integer, got ${flags.launch_parallelism}`);
  }
  const base = mkdtempSync(join(tmpdir(), 'mesos-ts-bench-'));
  const run: Run = { base, agentWorkDir: join(base, 'agent'), plainDir: join(base, 'plain'), certs: null };
  const cleaned = cleanUpOnce(run);
  // As the agent stops on either: its containers and mounts (and the plain ways') removed, then the exit.
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      interrupted = true;
      process.stderr.write(`${sig}: stopping the run and removing its containers and mounts (send it again to exit at once)\n`);
      void cleaned(sig).finally(() => process.exit(128 + osConstants.signals[sig]));
    });
  }
  process.stderr.write(`the run's files are under ${base}\n`);
  let results: Results | null = null;
  try {
    results = await measure(flags, run);
  } finally {
    await cleaned(interrupted ? 'a signal' : results ? 'the end of the run' : 'an error');
  }
  report(flags, results);
}

/** What a run started, recorded as it starts: a signal may come at any point and the clean-up stops what is there. */
interface Run {
  readonly base: string;
  readonly agentWorkDir: string;
  readonly plainDir: string;
  certs: ReturnType<typeof makeCerts> | null;
  master?: RunningMaster;
  agent?: RunningAgent;
  scheduler?: Scheduler;
  plain?: PlainLaunches;
  stopTracing?: () => void;
}

/** Master, agent (both containerizers) and the bench's framework, with TLS and authentication if asked. */
async function startCluster(flags: BenchFlags, run: Run): Promise<Scheduler> {
  const certs = run.certs = flags.tls ? makeCerts('mesos-ts-bench-certs-') : null;
  const serverTls = certs ? { ssl_enabled: true, ssl_ca_file: certs.ca, ssl_cert_file: certs.serverCert, ssl_key_file: certs.serverKey, ssl_require_client_cert: true } : {};
  const clientTls = certs ? tlsConfig({ ssl_enabled: true, ssl_ca_file: certs.ca, ssl_cert_file: certs.clientCert, ssl_key_file: certs.clientKey }, 'client') : null;
  const authentication = flags.authenticate
    ? { authenticate_frameworks: true, authenticate_agents: true, credentials: JSON.stringify({ credentials: [CREDENTIAL] }) } : {};
  // Offers are kept until used (no offer timeout): a burst can outlast the default 30 s, and an offer rescinded
  // while the bench accepts it failed a run (TASK_LOST, "offer ... is unknown, already used, declined or rescinded").
  const master = run.master = await startMaster({ port: 0, grpc_port: 0, quiet: true, offer_timeout: 0, ...serverTls, ...authentication });
  run.agent = await startAgent({
    master: master.grpcAddress, port: 0, work_dir: run.agentWorkDir, resources: 'cpus:64;mem:65536;disk:1000;ports:[32000-32999]',
    containerizers: flags.docker ? 'docker,mesos' : 'mesos', docker_registry: OCI_REGISTRY, docker_pull: 'never', quiet: true, log: () => {},
    oci_root_pool: flags.root_pool, oci_launch_parallelism: flags.launch_parallelism,
    ...serverTls, ...(flags.authenticate ? { credential: JSON.stringify(CREDENTIAL) } : {}),
  });
  const scheduler = run.scheduler = new Scheduler({
    master: master.grpcAddress, framework: { name: 'bench-launch' }, logger: silentLogger, tls: clientTls, ...(flags.authenticate ? { credential: CREDENTIAL } : {}),
  });
  return scheduler;
}

async function measure(flags: BenchFlags, run: Run): Promise<Results> {
  const scheduler = await startCluster(flags, run);
  const tasks = new BenchTasks({
    scheduler, limits: LIMITS, agentWorkDir: run.agentWorkDir, rootPool: flags.root_pool, ...(flags.fail_after !== undefined ? { failAfter: flags.fail_after } : {}),
  });
  run.stopTracing = tasks.stopTracing;
  await scheduler.start();
  const plain = run.plain = plainLaunches(run.plainDir, LIMITS);
  const ways = WAYS.filter((w) => flags.docker || !DOCKER_WAYS.has(w));
  await warmUp(ways, tasks, plain);
  const times = await singleLaunches(flags, ways, tasks, plain);
  const bursts = flags.burst > 0 ? await burstLaunches(flags, tasks, plain) : [];
  return { times, bursts, traced: tasks.traced, tracedBurst: tasks.tracedBurst };
}

const DOCKER_WAYS: ReadonlySet<Way> = new Set(['mesos-ts docker', 'dockerode create+start']);

/** Each way's one launch, timed (ms). */
function oneLaunch(tasks: BenchTasks, plain: PlainLaunches): Record<Way, () => Promise<number>> {
  return {
    'mesos-ts docker': async () => (await tasks.launch('docker', 1))[0]!,
    'mesos-ts mesos': async () => (await tasks.launch('mesos', 1))[0]!,
    'dockerode create+start': () => plain.dockerode(),
    'runc run -d': () => plain.runc(),
    "runc run -d, agent's seccomp": () => plain.runc(tasks.confinement!),
  };
}

/** A first launch of each way warms the caches (the mesos containerizer unpacks its image once); its trace is dropped. */
async function warmUp(ways: readonly Way[], tasks: BenchTasks, plain: PlainLaunches): Promise<void> {
  const launchOne = oneLaunch(tasks, plain);
  // The mesos way first: the filtered runc way takes the agent's seccomp filter from its task.
  for (const way of ['mesos-ts mesos' as const, ...ways.filter((w) => w !== 'mesos-ts mesos')]) await launchOne[way]();
  tasks.traced.docker.clear();
  tasks.traced.mesos.clear();
}

/** One launch at a time, the ways alternating in --rounds rounds: ms per launch, per way. */
async function singleLaunches(flags: BenchFlags, ways: readonly Way[], tasks: BenchTasks, plain: PlainLaunches): Promise<Map<Way, number[]>> {
  const launchOne = oneLaunch(tasks, plain);
  const times = new Map<Way, number[]>(ways.map((w) => [w, []]));
  const perRound = Math.ceil(flags.tasks / flags.rounds);
  for (let round = 0; round < flags.rounds; round++) {
    for (const way of ways) {
      for (let i = 0; i < perRound && times.get(way)!.length < flags.tasks; i++) times.get(way)!.push(await launchOne[way]());
    }
    process.stderr.write(`round ${round + 1}/${flags.rounds}: ${times.get('runc run -d')!.length} launches each way (load average ${loadavg()[0]!.toFixed(1)})\n`);
  }
  return times;
}

/** --burst tasks at once: through the mesos containerizer, plain runc all at once and bounded as the agent bounds it, Docker. */
async function burstLaunches(flags: BenchFlags, tasks: BenchTasks, plain: PlainLaunches): Promise<Results['bursts']> {
  const bursts: Results['bursts'] = [];
  const k = flags.launch_parallelism;
  bursts.push({ way: `mesos-ts mesos, ${flags.burst} in one ACCEPT (${k} at a time)`, times: await tasks.launch('mesos', flags.burst) });
  bursts.push({ way: `runc run -d, ${flags.burst} at once`, times: await plain.runcBurst(flags.burst) });
  bursts.push({ way: `runc run -d, ${flags.burst}, ${k} at a time`, times: await plain.runcBurst(flags.burst, k) });
  if (flags.docker && flags.docker_burst) bursts.push({ way: `mesos-ts docker, ${flags.burst} in one ACCEPT`, times: await tasks.launch('docker', flags.burst) });
  process.stderr.write(`bursts done (load average ${loadavg()[0]!.toFixed(1)})\n`);
  return bursts;
}

/** The run's containers and mounts, by its labels and directories. */
interface LeftBehind {
  readonly docker: string[];
  readonly mesos: string[];
  readonly plainRunc: string[];
  readonly mounts: string[];
}

async function leftBehind(run: Run): Promise<LeftBehind> {
  const engine = new Docker();
  const labelled = async (label: string) => (await engine.listContainers({ all: true, filters: { label: [label] } }).catch(() => [])).map((c) => c.Names[0]?.replace(/^\//, '') ?? c.Id);
  const entries = (dir: string) => (existsSync(dir) ? readdirSync(dir) : []);
  return {
    docker: [...await labelled(`${LABEL.workDir}=${run.agentWorkDir}`), ...await labelled(`${PLAIN_LABEL}=${run.plainDir}`)],
    mesos: entries(join(run.agentWorkDir, 'oci', 'containers')),
    plainRunc: entries(run.plainDir).filter((e) => e.startsWith('plain-')),
    mounts: mountsUnder(run.base),
  };
}

const describeLeft = (left: LeftBehind) => {
  const parts = [
    [left.docker, 'Docker container'], [left.mesos, 'mesos container'], [left.plainRunc, 'plain runc container'], [left.mounts, 'mount'],
  ] as const;
  const said = parts.filter(([names]) => names.length > 0).map(([names, what]) => `${names.length} ${what}${names.length > 1 ? 's' : ''} (${names.join(', ')})`);
  return said.length > 0 ? said.join(', ') : 'nothing';
};

/**
 * The run's clean-up, run once whichever comes first (the end, an error, SIGINT or SIGTERM): the scheduler,
 * the plain ways (their launch in flight ends first), the agent (killing its tasks, emptying its root pool)
 * and the master stopped, each within a minute; then what is still there is removed by label and directory:
 * Docker containers, the agent's mesos containers and pooled roots, mounts under the run's directory.
 * Says what it found and, if anything, what it could not remove.
 */
function cleanUpOnce(run: Run): (why: string) => Promise<void> {
  let done: Promise<void> | null = null;
  return (why) => (done ??= cleanUp(run, why));
}

async function cleanUp(run: Run, why: string): Promise<void> {
  const found = await leftBehind(run);
  const step = (what: string, p: Promise<unknown> | undefined) => Promise.race([
    (p ?? Promise.resolve()).catch((err: Error) => process.stderr.write(`clean-up: ${what}: ${err.message}\n`)),
    new Promise((r) => setTimeout(r, 60_000).unref()).then(() => process.stderr.write(`clean-up: ${what} took over a minute; going on\n`)),
  ]);
  run.stopTracing?.();
  await step('scheduler teardown', run.scheduler?.teardown());
  await step('plain launches', run.plain?.close());
  await step('agent stop', run.agent?.stop({ killTasks: true }));
  await step('master stop', run.master?.stop());
  const engine = new Docker();
  for (const label of [`${LABEL.workDir}=${run.agentWorkDir}`, `${PLAIN_LABEL}=${run.plainDir}`]) {
    for (const c of await engine.listContainers({ all: true, filters: { label: [label] } }).catch(() => [])) await step(`removing ${c.Id}`, engine.getContainer(c.Id).remove({ force: true }));
  }
  await step('removing mesos containers', removeOciContainers([run.agentWorkDir]));
  await unmountUnder(run.base);
  const left = await leftBehind(run);
  if (describeLeft(left) === 'nothing') rmSync(run.base, { recursive: true, force: true });
  if (run.certs) rmSync(run.certs.dir, { recursive: true, force: true });
  process.stderr.write(`clean-up after ${why}: removed ${describeLeft(found)}${describeLeft(left) === 'nothing' ? '' : `; LEFT ${describeLeft(left)}`}\n`);
}

/** Set by SIGINT or SIGTERM: the run's own failures that follow (launches cut short) are not reported. */
let interrupted = false;

main().catch((err: Error) => {
  if (interrupted) return;
  process.stderr.write(`bench/launch.ts: ${err instanceof InvalidArgument ? err.message : err.stack}\n`);
  process.exit(err instanceof InvalidArgument ? 2 : 1);
});

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
// Then bursts of --burst tasks accepted at once (each containerizer) and
// --burst plain `runc run -d` at once: the time until all run.
// Prints median and p95 of each way, the ratios the targets are set on, and
// where a launch spends its time: the hops of the launch trace
// (common/launch-trace.ts) per containerizer, each as the median time since
// ACCEPT and the median step from the hop before it.
// --tls runs master, agent and scheduler over mutual TLS and --authenticate
// with credentials on every call: run beside a plain run for what security
// adds to a launch.
//   npx tsx bench/launch.ts [--tasks 50] [--rounds 5] [--burst 100] [--root_pool 4] [--tls] [--authenticate]
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import Docker from 'dockerode';
import { constants as osConstants, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMaster, type RunningMaster } from '../master/main.js';
import { startAgent, type RunningAgent } from '../agent/main.js';
import { LABEL } from '../agent/task-spec.js';
import { InvalidArgument } from '../common/errors.js';
import { mountsUnder, unmountUnder } from '../common/hosts/engine-leftovers.js';
import { Scheduler, dockerTask, silentLogger, type OfferOut, type TaskStatusOut } from '../framework/sdk/index.js';
import { Resources } from '../common/resources.js';
import { parseFlags, usage, type Flags } from '../common/flags.js';
import { onLaunchHop } from '../common/launch-trace.js';
import { tlsConfig } from '../common/tls.js';
import { makeCerts } from '../test/harness/certs.js';
import { OCI_REGISTRY, removeOciContainers } from '../test/harness/oci.js';
import { BENCH_IMAGE, PLAIN_LABEL, plainLaunches, type Confinement, type PlainLaunches } from './plain-launch.js';
import { percentile as nearestRank } from '../common/timer-window.js';

const FLAGS = {
  tasks: { type: 'number', default: 50, help: 'launches each way' },
  rounds: { type: 'number', default: 5, help: 'the five ways alternate in this many rounds' },
  burst: { type: 'number', default: 100, help: 'tasks accepted at once in each burst (0: no bursts)' },
  root_pool: { type: 'number', default: 4, help: "the agent's --oci_root_pool (0: every launch mounts its own root)" },
  tls: { type: 'boolean', default: false, help: 'mutual TLS between scheduler, master and agent' },
  authenticate: { type: 'boolean', default: false, help: 'the master authenticates the framework and the agent; both present credentials' },
} as const;

const CREDENTIAL = { principal: 'bench', secret: 'bench-secret' };
const LIMITS = { cpus: 0.1, memMiB: 32 };
const TERMINAL = new Set(['TASK_FAILED', 'TASK_ERROR', 'TASK_LOST', 'TASK_DROPPED', 'TASK_KILLED', 'TASK_FINISHED']);
type Containerizer = 'docker' | 'mesos';
const WAYS = ['mesos-ts docker', 'mesos-ts mesos', 'dockerode create+start', 'runc run -d', "runc run -d, agent's seccomp"] as const;
type Way = (typeof WAYS)[number];

/** Nearest-rank percentile (p in 0..100) of unsorted times. */
const percentile = (xs: readonly number[], p: number) => nearestRank([...xs].sort((a, b) => a - b), p / 100);
const say = (line = '') => process.stdout.write(line + '\n');

async function main(): Promise<void> {
  const flags = parseFlags(FLAGS, process.argv.slice(2), { env: process.env });
  if (flags.help) {
    say(usage('bench:launch', 'ACCEPT -> TASK_RUNNING through both containerizers, beside plain runc and dockerode, interleaved.', FLAGS).replace('mesos-ts bench:launch', 'npx tsx bench/launch.ts'));
    return;
  }
  if (flags._.length > 0) throw new InvalidArgument(`unexpected argument '${flags._[0]}' (see --help)`);
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
  let results: Parameters<typeof report>[1] | null = null;
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

async function measure(flags: Flags<typeof FLAGS>, run: Run) {
  const certs = flags.tls ? makeCerts('mesos-ts-bench-certs-') : null;
  run.certs = certs;
  const serverTls = certs ? { ssl_enabled: true, ssl_ca_file: certs.ca, ssl_cert_file: certs.serverCert, ssl_key_file: certs.serverKey, ssl_require_client_cert: true } : {};
  const clientTls = certs ? tlsConfig({ ssl_enabled: true, ssl_ca_file: certs.ca, ssl_cert_file: certs.clientCert, ssl_key_file: certs.clientKey }, 'client') : null;
  const authentication = flags.authenticate
    ? { authenticate_frameworks: true, authenticate_agents: true, credentials: JSON.stringify({ credentials: [CREDENTIAL] }) } : {};
  // Offers are kept until used (no offer timeout): a burst can outlast the default 30 s, and an offer rescinded
  // while the bench accepts it failed a run (TASK_LOST, "offer ... is unknown, already used, declined or rescinded").
  const master = run.master = await startMaster({ port: 0, grpc_port: 0, quiet: true, offer_timeout: 0, ...serverTls, ...authentication });
  const agentWorkDir = run.agentWorkDir;
  run.agent = await startAgent({
    master: master.grpcAddress, port: 0, work_dir: agentWorkDir, resources: 'cpus:64;mem:65536;disk:1000;ports:[32000-32999]',
    containerizers: 'docker,mesos', docker_registry: OCI_REGISTRY, docker_pull: 'never', quiet: true, log: () => {}, oci_root_pool: flags.root_pool,
    ...serverTls, ...(flags.authenticate ? { credential: JSON.stringify(CREDENTIAL) } : {}),
  });
  const scheduler = run.scheduler = new Scheduler({
    master: master.grpcAddress, framework: { name: 'bench-launch' }, logger: silentLogger, tls: clientTls, ...(flags.authenticate ? { credential: CREDENTIAL } : {}),
  });
  // By offer id: an offer the SDK hands over again (after a re-subscription) is held once, never accepted twice.
  const offers = new Map<string, OfferOut>();
  const waiting = new Map<string, { state: string; resolve: (outcome: 'reached' | 'invalid offer') => void; reject: (err: Error) => void }>();
  scheduler.on('offers', (e) => e.offers.forEach((o) => offers.set(o.id!.value, o)));
  scheduler.on('rescind', (e) => offers.delete(e.offerId));
  scheduler.on('update', (e: { status: TaskStatusOut }) => {
    const w = waiting.get(e.status.task_id!.value);
    if (w && e.status.state === w.state) w.resolve('reached');
    // The master refused the ACCEPT (an offer it no longer held: rescinded after the agent missed pings under load): launched again.
    else if (w && e.status.reason === 'REASON_INVALID_OFFERS') w.resolve('invalid offer');
    else if (w && TERMINAL.has(e.status.state ?? '')) w.reject(new Error(`${e.status.task_id!.value}: ${e.status.state} ${e.status.message ?? ''}`));
  });
  await scheduler.start();
  const until = (taskId: string, state: string) => new Promise<'reached' | 'invalid offer'>((resolve, reject) => waiting.set(taskId, { state, resolve, reject }));

  // Per task: when it passed each hop (the first time), relative to its ACCEPT.
  const hops = new Map<string, Map<string, number>>();
  const started = new Map<string, number>();
  run.stopTracing = onLaunchHop(({ taskId, hop, at }) => {
    const t0 = started.get(taskId);
    const seen = hops.get(taskId);
    if (t0 === undefined || !seen || seen.has(hop)) return;
    seen.set(hop, at - t0);
  });
  const times = new Map<Way, number[]>(WAYS.map((w) => [w, []]));
  const traced: Record<Containerizer, Map<string, Map<string, number>>> = { docker: new Map(), mesos: new Map() };
  const bursts: { way: string; times: number[] }[] = [];
  const plain = run.plain = plainLaunches(run.plainDir, LIMITS);
  const demand = Resources.parse(`cpus:${LIMITS.cpus};mem:${LIMITS.memMiB}`);
  let seq = 0;
  let confinement: Confinement | null = null;
  /** `count` tasks in one ACCEPT: ms from it to each one's TASK_RUNNING; they are killed afterwards (untimed). */
  const launch = async (containerizer: Containerizer, count: number): Promise<number[]> => {
    for (let attempt = 1; ; attempt++) {
      const took = await launchOnce(containerizer, count);
      if (took !== null) return took;
      if (attempt === 3) throw new Error(`the master refused ${attempt} ACCEPTs in a row for offers it no longer held`);
      process.stderr.write(`an ACCEPT named an offer the master no longer held; launching again (attempt ${attempt + 1})\n`);
    }
  };
  /** null when the master refused the ACCEPT for its offers (nothing was launched). */
  const launchOnce = async (containerizer: Containerizer, count: number): Promise<number[] | null> => {
    const taken = await takeOffers(offers, demand, count);
    const offer = taken[0]!;
    const ids = Array.from({ length: count }, () => `bench-${containerizer}-${seq++}`);
    const tasks = ids.map((taskId) => dockerTask({ taskId, agentId: offer.agent_id!.value, resources: demand, image: BENCH_IMAGE, command: 'sleep 3600', containerizer }));
    const running = ids.map((id) => until(id, 'TASK_RUNNING').then((outcome) => ({ outcome, at: performance.now() })));
    for (const id of ids) hops.set(id, new Map());
    const t0 = performance.now();
    for (const id of ids) started.set(id, t0);
    await scheduler.launch(taken, tasks, { refuseSeconds: 0 });
    const outcomes = await Promise.all(running);
    for (const id of ids) started.delete(id); // later hops (its kill) are not part of the launch
    if (outcomes.some((o) => o.outcome === 'invalid offer')) {
      for (const id of ids) hops.delete(id);
      if (outcomes.every((o) => o.outcome === 'invalid offer')) return null;
      throw new Error('the master refused some tasks of one ACCEPT for its offers and launched others');
    }
    const took = outcomes.map((o) => o.at - t0);
    if (containerizer === 'mesos') confinement ??= agentConfinement(agentWorkDir);
    ids.forEach((id, i) => hops.get(id)!.set('framework: TASK_RUNNING seen', took[i]!));
    for (const id of ids) {
      if (count === 1) traced[containerizer].set(id, hops.get(id)!);
      hops.delete(id);
    }
    const killed = ids.map((id) => until(id, 'TASK_KILLED'));
    for (const id of ids) await scheduler.kill(id, { agentId: offer.agent_id!.value });
    await Promise.all(killed);
    // Untimed, as the plain ways remove their container before the next: the agent removes the killed tasks'
    // containers (and refills its root pool) before the next launch, which would otherwise share the cpus with it.
    await agentIdle(containerizer, agentWorkDir, flags.root_pool);
    return took;
  };
  // A first launch of each warms the caches (the mesos containerizer unpacks its image once).
  await launch('docker', 1);
  await launch('mesos', 1);
  await plain.runc();
  await plain.runc(confinement!);
  await plain.dockerode();
  traced.docker.clear();
  traced.mesos.clear();
  const perRound = Math.ceil(flags.tasks / flags.rounds);
  for (let round = 0; round < flags.rounds; round++) {
    for (const way of WAYS) {
      for (let i = 0; i < perRound && times.get(way)!.length < flags.tasks; i++) {
        const took = way === 'mesos-ts docker' ? (await launch('docker', 1))[0]!
          : way === 'mesos-ts mesos' ? (await launch('mesos', 1))[0]!
            : way === 'dockerode create+start' ? await plain.dockerode()
              : way === 'runc run -d' ? await plain.runc() : await plain.runc(confinement!);
        times.get(way)!.push(took);
      }
    }
    process.stderr.write(`round ${round + 1}/${flags.rounds}: ${times.get('runc run -d')!.length} launches each way (load average ${loadavg()[0]!.toFixed(1)})\n`);
  }
  if (flags.burst > 0) {
    bursts.push({ way: `mesos-ts mesos, ${flags.burst} in one ACCEPT`, times: await launch('mesos', flags.burst) });
    bursts.push({ way: `runc run -d, ${flags.burst} at once`, times: await plain.runcBurst(flags.burst) });
    bursts.push({ way: `mesos-ts docker, ${flags.burst} in one ACCEPT`, times: await launch('docker', flags.burst) });
    process.stderr.write(`bursts done (load average ${loadavg()[0]!.toFixed(1)})\n`);
  }
  return { times, bursts, traced };
}

function report(
  flags: { tasks: number; rounds: number; tls: boolean; authenticate: boolean; root_pool: number },
  { times, bursts, traced }: { times: Map<Way, number[]>; bursts: { way: string; times: number[] }[]; traced: Record<Containerizer, Map<string, Map<string, number>>> },
): void {
  const m = (way: Way) => percentile(times.get(way)!, 50);
  say(`\n${'launch, one at a time (ms)'.padEnd(34)}${'median'.padStart(10)}${'p95'.padStart(10)}`);
  for (const way of WAYS) say(`${way.padEnd(34)}${m(way).toFixed(1).padStart(10)}${percentile(times.get(way)!, 95).toFixed(1).padStart(10)}`);
  say(`${flags.tasks} launches each way in ${flags.rounds} interleaved rounds; --oci_root_pool ${flags.root_pool}; TLS ${flags.tls ? 'on (mutual)' : 'off'}, authentication ${flags.authenticate ? 'on' : 'off'}; load average now ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  say(`mesos-ts mesos / runc run -d:        ${(m('mesos-ts mesos') / m('runc run -d')).toFixed(2)}x   (target: <= 1.2)`);
  say(`mesos-ts mesos / runc, agent seccomp: ${(m('mesos-ts mesos') / m("runc run -d, agent's seccomp")).toFixed(2)}x   (like with like: the same filter and capabilities)`);
  say(`runc, agent seccomp / runc run -d:   ${(m("runc run -d, agent's seccomp") / m('runc run -d')).toFixed(2)}x   (what the filter costs runc)`);
  say(`mesos-ts docker / mesos-ts mesos:    ${(m('mesos-ts docker') / m('mesos-ts mesos')).toFixed(2)}x   (target: >= 4)`);
  say(`mesos-ts docker / dockerode:         ${(m('mesos-ts docker') / m('dockerode create+start')).toFixed(2)}x`);
  if (bursts.length > 0) {
    say(`\n${'burst (ms)'.padEnd(44)}${'median'.padStart(10)}${'all running'.padStart(13)}`);
    for (const b of bursts) say(`${b.way.padEnd(44)}${percentile(b.times, 50).toFixed(0).padStart(10)}${Math.max(...b.times).toFixed(0).padStart(13)}`);
  }
  for (const containerizer of ['docker', 'mesos'] as const) printHops(containerizer, traced[containerizer]);
  printOwnTime(traced, times);
}

/**
 * Each single launch minus the runtime's own part as the agent timed it (Docker: the engine's create and
 * start calls; mesos: from handing the bundle to the supervisor until the runtime wrote the pid): what
 * mesos-ts adds, much steadier than the ratios on a busy machine.
 */
function printOwnTime(traced: Record<Containerizer, Map<string, Map<string, number>>>, times: Map<Way, number[]>): void {
  const phases: Record<Containerizer, readonly (readonly [string, string])[]> = {
    docker: [['docker: creating', 'docker: created'], ['docker: starting', 'docker: started']],
    mesos: [['oci: starting', 'oci: started']],
  };
  say(`\n${'split (ms)'.padEnd(54)}${'median'.padStart(8)}${'p95'.padStart(9)}`);
  const row = (name: string, xs: number[]) => xs.length > 0 && say(`  ${name.padEnd(52)}${percentile(xs, 50).toFixed(1).padStart(8)}${percentile(xs, 95).toFixed(1).padStart(9)}`);
  for (const containerizer of ['docker', 'mesos'] as const) {
    const runtime: number[] = [];
    const own: number[] = [];
    for (const seen of traced[containerizer].values()) {
      const spans = phases[containerizer].map(([from, to]) => (seen.get(to) ?? NaN) - (seen.get(from) ?? NaN));
      const total = seen.get('framework: TASK_RUNNING seen');
      if (spans.some(Number.isNaN) || total === undefined) continue;
      runtime.push(spans.reduce((a, b) => a + b, 0));
      own.push(total - runtime.at(-1)!);
    }
    row(`${containerizer}: the runtime's part, made by the agent`, runtime);
    row(`${containerizer}: the rest of ACCEPT -> TASK_RUNNING (mesos-ts)`, own);
  }
  row('plain dockerode create+start', times.get('dockerode create+start')!);
  row('plain runc run -d', times.get('runc run -d')!);
  row("plain runc run -d, the agent's seccomp and capabilities", times.get("runc run -d, agent's seccomp")!);
}

/**
 * The launch trace of one containerizer's single launches: hops in the order of their median time since
 * ACCEPT. A hop's step is the time since the hop its task passed just before it, so along one task the
 * steps add up to its launch time.
 */
function printHops(containerizer: Containerizer, hops: Map<string, Map<string, number>>): void {
  const at = new Map<string, number[]>();
  const steps = new Map<string, number[]>();
  for (const [taskId, seen] of hops) {
    if (!taskId.startsWith(`bench-${containerizer}-`)) continue;
    let before = 0;
    for (const [hop, t] of [...seen].sort((a, b) => a[1] - b[1])) {
      at.set(hop, [...(at.get(hop) ?? []), t]);
      steps.set(hop, [...(steps.get(hop) ?? []), t - before]);
      before = t;
    }
  }
  const order = [...at].map(([hop, ts]) => ({ hop, at: percentile(ts, 50), n: ts.length })).sort((a, b) => a.at - b.at);
  const n = Math.max(0, ...order.map((o) => o.n));
  say(`\n${`launch trace, mesos-ts ${containerizer} (ms, median)`.padEnd(42)}${'since ACCEPT'.padStart(13)}${'step'.padStart(8)}`);
  for (const { hop, at: t, n: seen } of order) {
    say(`  ${hop.padEnd(40)}${t.toFixed(1).padStart(13)}${percentile(steps.get(hop)!, 50).toFixed(1).padStart(8)}${seen < n ? `   (${seen} of ${n} launches)` : ''}`);
  }
}

/** The seccomp filter and capabilities of the agent's running mesos task, from its bundle's config.json. */
function agentConfinement(workDir: string): Confinement {
  const bundles = join(workDir, 'oci', 'containers');
  const id = readdirSync(bundles)[0];
  if (id === undefined) throw new Error(`no bundle in ${bundles} to read the agent's seccomp filter from`);
  const config = JSON.parse(readFileSync(join(bundles, id, 'config.json'), 'utf8')) as { process: { capabilities: unknown }; linux: { seccomp?: unknown } };
  return { capabilities: config.process.capabilities, ...(config.linux.seccomp !== undefined ? { seccomp: config.linux.seccomp } : {}) };
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

/** Every outstanding offer, once together they hold `count` tasks of `demand` (one agent: one ACCEPT takes them all). */
async function takeOffers(offers: Map<string, OfferOut>, demand: Resources, count: number): Promise<OfferOut[]> {
  const holds = () => {
    const total = [...offers.values()].reduce((sum, o) => sum.add(Resources.fromProto(o.resources)), Resources.EMPTY);
    return total.scalar('cpus') >= count * demand.scalar('cpus') - 1e-9 && total.scalar('mem') >= count * demand.scalar('mem');
  };
  const deadline = Date.now() + 30_000;
  while (!holds()) {
    if (Date.now() > deadline) throw new Error(`no offers for ${count} task(s) within 30 s`);
    await new Promise((r) => setTimeout(r, 5));
  }
  const taken = [...offers.values()];
  offers.clear();
  return taken;
}

/**
 * Resolves once the agent removed every container of the containerizer and, for mesos, holds `rootPool` roots
 * ready again (counted in the mount table), or after 60 s.
 */
async function agentIdle(containerizer: Containerizer, workDir: string, rootPool: number): Promise<void> {
  const docker = new Docker();
  const idle = async () => {
    if (containerizer === 'docker') return (await docker.listContainers({ all: true, filters: { label: [`mesos-ts.work_dir=${workDir}`] } })).length === 0;
    const bundles = existsSync(join(workDir, 'oci', 'containers')) ? readdirSync(join(workDir, 'oci', 'containers')) : [];
    const pooled = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => (l.split(' ')[4] ?? '').startsWith(join(workDir, 'oci', 'pool') + '/'));
    return bundles.length === 0 && pooled.length >= rootPool;
  };
  const deadline = Date.now() + 60_000;
  while (!(await idle()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
}

/** Set by SIGINT or SIGTERM: the run's own failures that follow (launches cut short) are not reported. */
let interrupted = false;

main().catch((err: Error) => {
  if (interrupted) return;
  process.stderr.write(`bench/launch.ts: ${err instanceof InvalidArgument ? err.message : err.stack}\n`);
  process.exit(err instanceof InvalidArgument ? 2 : 1);
});

// bench/api: status-update throughput through the scheduler API, gRPC and
// the v1 HTTP API (JSON and protobuf) side by side.
//
// An agent on the real agent link (test/harness/link-agent.ts: the real
// MasterLink and StatusUpdateManager, no containers) is given N tasks in one
// ACCEPT; each task reports TASK_RUNNING then TASK_FINISHED, the second only
// once the first is acknowledged, as the agent's status update manager does.
// The scheduler acknowledges every update as it arrives. Timed from the
// first UPDATE reaching the scheduler to the last acknowledgement reaching
// the agent: update -> master -> scheduler -> ACKNOWLEDGE -> master -> agent.
// Each API gets a fresh master and agent per round; rounds alternate the
// APIs; the table shows the median round. CPU µs/upd is this process's CPU
// (master, agent and scheduler all run in it) per update over the same span,
// the median over rounds: steadier than the rate on a machine others share.
// With --authenticate the masters authenticate frameworks and agents and every
// client presents its credential; with --tls every connection is mutual TLS
// (certificates from scripts/make-certs.sh). --security runs each API plain,
// authenticated, over mutual TLS and both, alternating in every round, and
// prints each beside the plain figure: the cost of security per call.
//   npx tsx bench/api.ts [--tasks 2000] [--rounds 3] [--connections 8] [--authenticate] [--tls] [--security]
import { startMaster, type RunningMaster } from '../master/main.js';
import { parseFlags } from '../common/flags.js';
import { basicAuthorization } from '../common/credentials.js';
import { tlsConfig, type Tls } from '../common/tls.js';
import { makeCerts, type Certs } from '../test/harness/certs.js';
import { rmSync } from 'node:fs';
import { Resources } from '../common/resources.js';
import type { TaskInfoIn } from '../proto/index.js';
import { LinkAgent } from '../test/harness/link-agent.js';
import { RawScheduler } from '../test/harness/grpc-scheduler.js';
import { MesosHttpClient, type JsonOffer } from '../test/harness/mesos-http-client.js';
import { Scheduler, silentLogger } from '../framework/sdk/index.js';

const FLAGS = {
  tasks: { type: 'number', default: 2000, help: 'tasks launched per run; each sends 2 updates' },
  rounds: { type: 'number', default: 3, help: 'runs of each API, alternating' },
  connections: { type: 'number', default: 8, help: 'kept-alive HTTP connections the HTTP scheduler sends its calls on' },
  authenticate: { type: 'boolean', default: false, help: 'masters authenticate frameworks and agents (gRPC metadata, HTTP basic auth); clients present credentials' },
  tls: { type: 'boolean', default: false, help: 'mutual TLS on every connection' },
  security: { type: 'boolean', default: false, help: 'compare plain, --authenticate, --tls and both, side by side' },
} as const;

/** What a run secures: credentials on every call, mutual TLS on every connection. */
interface Security {
  readonly name: string;
  readonly authenticate: boolean;
  readonly tls: boolean;
}
const SECURITIES: readonly Security[] = [
  { name: 'plain', authenticate: false, tls: false },
  { name: 'auth', authenticate: true, tls: false },
  { name: 'mTLS', authenticate: false, tls: true },
  { name: 'mTLS+auth', authenticate: true, tls: true },
];
let certs: Certs | null = null;
const clientTls = (security: Security): Tls | null =>
  security.tls ? tlsConfig({ ssl_enabled: true, ssl_ca_file: certs!.ca, ssl_cert_file: certs!.clientCert, ssl_key_file: certs!.clientKey }, 'client') : null;
const serverFlags = (security: Security) => security.tls
  ? { ssl_enabled: true, ssl_ca_file: certs!.ca, ssl_cert_file: certs!.serverCert, ssl_key_file: certs!.serverKey, ssl_require_client_cert: true }
  : {};

/** With authentication: the one credential every client presents, and the master's file of them. */
const CREDENTIAL = { principal: 'bench', secret: 'bench-secret' };

type Api = 'gRPC' | 'SDK unary' | 'SDK stream' | 'HTTP JSON' | 'HTTP protobuf';
/** gRPC: a bare client, one unary ACKNOWLEDGE per update; SDK: the framework SDK, its calls unary or on the Calls stream. */
const APIS: readonly Api[] = ['gRPC', 'SDK unary', 'SDK stream', 'HTTP JSON', 'HTTP protobuf'];
const SCRIPT = ['TASK_RUNNING', 'TASK_FINISHED'] as const;
const TIMEOUT_MS = 30_000;

interface Run {
  readonly updates: number;
  readonly seconds: number;
  /** CPU of this process (master, agent and scheduler alike) from the ACCEPT to the last acknowledgement: steadier than seconds on a busy machine. */
  readonly cpuSeconds: number;
}

/** What the scheduler side needs: subscribe, the first offer, ACCEPT, a hook on each UPDATE; it acknowledges on its own. */
interface BenchScheduler {
  subscribe(): Promise<void>;
  firstOffer(): Promise<{ offerId: string; agentId: string }>;
  launch(offerId: string, tasks: TaskInfoIn[]): Promise<void>;
  firstUpdate(): Promise<number>;
  close(): void;
}

function grpcScheduler(master: RunningMaster, security: Security): BenchScheduler {
  const s = new RawScheduler(master.grpcAddress, security.authenticate ? CREDENTIAL : undefined, clientTls(security));
  s.autoAcknowledge = true;
  return {
    subscribe: async () => void (await s.subscribe({ name: 'bench-api-grpc', user: 'bench' })),
    firstOffer: async () => {
      const offer = (await s.next((e) => e.type === 'OFFERS', TIMEOUT_MS)).offers!.offers[0]!;
      return { offerId: offer.id!.value, agentId: offer.agent_id!.value };
    },
    launch: (offerId, tasks) => s.call('Accept', {
      type: 'ACCEPT', accept: { offer_ids: [{ value: offerId }], operations: [{ type: 'LAUNCH', launch: { task_infos: tasks } }], filters: { refuse_seconds: 0 } },
    }),
    firstUpdate: async () => (await s.next((e) => e.type === 'UPDATE', TIMEOUT_MS), performance.now()),
    close: () => s.close(),
  };
}

/** The SDK's Scheduler, acknowledging on its own; `callStream` false sends each call as its own unary request. */
function sdkScheduler(master: RunningMaster, security: Security, callStream: boolean): BenchScheduler {
  const s = new Scheduler({
    master: master.grpcAddress, framework: { name: 'bench-api-sdk', user: 'bench' }, logger: silentLogger, callStream, tls: clientTls(security),
    ...(security.authenticate ? { credential: CREDENTIAL } : {}),
  });
  const offer = new Promise<{ offerId: string; agentId: string }>((resolve) => s.once('offers', (e) => resolve({ offerId: e.offers[0]!.id!.value, agentId: e.offers[0]!.agent_id!.value })));
  return {
    subscribe: async () => void (await s.start()),
    firstOffer: () => offer,
    launch: (offerId, tasks) => s.launch(offerId, tasks, { refuseSeconds: 0 }),
    firstUpdate: () => new Promise((resolve) => s.once('update', () => resolve(performance.now()))),
    close: () => void s.close(),
  };
}

function httpScheduler(master: RunningMaster, encoding: 'json' | 'protobuf', connections: number, security: Security): BenchScheduler {
  const c = new MesosHttpClient({
    master: master.httpAddress, encoding, autoAcknowledge: true, callConnections: connections, tls: clientTls(security),
    ...(security.authenticate ? { authorization: basicAuthorization(CREDENTIAL) } : {}),
  });
  return {
    subscribe: async () => void (await c.subscribe({ name: `bench-api-http-${encoding}`, user: 'bench' })),
    firstOffer: async () => {
      const offer: JsonOffer = (await c.next((e) => e.type === 'OFFERS', TIMEOUT_MS)).offers!.offers[0]!;
      return { offerId: offer.id.value, agentId: offer.agent_id.value };
    },
    launch: async (offerId, tasks) => {
      const answer = await c.call({
        type: 'ACCEPT', accept: { offer_ids: [{ value: offerId }], operations: [{ type: 'LAUNCH', launch: { task_infos: tasks } }], filters: { refuse_seconds: 0 } },
      });
      if (answer.status !== 202) throw new Error(`ACCEPT answered ${answer.status}: ${answer.text}`);
    },
    firstUpdate: async () => (await c.next((e) => e.type === 'UPDATE', TIMEOUT_MS), performance.now()),
    close: () => c.close(),
  };
}

async function measure(api: Api, tasks: number, connections: number, security: Security): Promise<Run> {
  const authentication = security.authenticate
    ? { authenticate_frameworks: true, authenticate_agents: true, authenticate_http_frameworks: true, credentials: JSON.stringify({ credentials: [CREDENTIAL] }) }
    : {};
  const master = await startMaster({ port: 0, grpc_port: 0, allocation_interval: 0.05, quiet: true, ...authentication, ...serverFlags(security) });
  const agent = new LinkAgent({
    master: master.grpcAddress, resources: `cpus:${tasks * 0.01 + 1};mem:${tasks + 64}`, script: SCRIPT, retrySeconds: 60, tls: clientTls(security),
    ...(security.authenticate ? { credential: CREDENTIAL } : {}),
  });
  const scheduler = api === 'gRPC' ? grpcScheduler(master, security)
    : api.startsWith('SDK') ? sdkScheduler(master, security, api === 'SDK stream')
      : httpScheduler(master, api === 'HTTP JSON' ? 'json' : 'protobuf', connections, security);
  try {
    await agent.start();
    await scheduler.subscribe();
    const { offerId, agentId } = await scheduler.firstOffer();
    const total = tasks * SCRIPT.length;
    let cpu0 = process.cpuUsage();
    let cpu = cpu0;
    const done = new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${api}: ${agent.acknowledged} of ${total} updates acknowledged after ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
      agent.onAcknowledged = () => {
        if (agent.acknowledged < total) return;
        clearTimeout(timer);
        cpu = process.cpuUsage(cpu0);
        resolve(performance.now());
      };
    });
    const demand = Resources.parse('cpus:0.01;mem:1').toProto();
    const taskInfos: TaskInfoIn[] = Array.from({ length: tasks }, (_, i) => ({
      name: `t${i}`, task_id: { value: `t${i}` }, agent_id: { value: agentId }, resources: demand, command: { value: 'true' },
    }));
    const first = scheduler.firstUpdate();
    cpu0 = process.cpuUsage();
    await scheduler.launch(offerId, taskInfos);
    const [t0, t1] = await Promise.all([first, done]);
    return { updates: total, seconds: (t1 - t0) / 1000, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
  } finally {
    scheduler.close();
    agent.stop();
    await master.stop();
  }
}

async function main(): Promise<void> {
  const flags = parseFlags(FLAGS, process.argv.slice(2));
  const securities = flags.security ? SECURITIES : [{ name: 'this run', authenticate: flags.authenticate, tls: flags.tls }];
  if (securities.some((x) => x.tls)) certs = makeCerts('mesos-ts-bench-certs-');
  const key = (api: Api, security: Security) => `${api}/${security.name}`;
  const runs = new Map<string, Run[]>();
  const started = Date.now();
  try {
    for (const api of APIS) for (const security of securities) await measure(api, Math.min(500, flags.tasks), flags.connections, security); // Warm-up: JIT, module loading, TLS.
    for (let round = 0; round < flags.rounds; round++) {
      for (const api of APIS) {
        for (const security of securities) {
          const run = await measure(api, flags.tasks, flags.connections, security);
          runs.set(key(api, security), [...(runs.get(key(api, security)) ?? []), run]);
          process.stderr.write(`round ${round + 1} ${api} ${security.name}: ${Math.round(run.updates / run.seconds)} updates/s, ${Math.round((run.cpuSeconds * 1e6) / run.updates)} CPU µs/update\n`);
        }
      }
    }
  } finally {
    if (certs) rmSync(certs.dir, { recursive: true, force: true });
  }
  const rate = (r: Run) => r.updates / r.seconds;
  const median = (k: string) => [...runs.get(k)!].sort((a, b) => rate(a) - rate(b))[Math.floor(runs.get(k)!.length / 2)]!;
  const grpc = rate(median(key('gRPC', securities[0]!)));
  /** The median over rounds of CPU per update, on its own (the round with the median rate need not have the median CPU). */
  const cpuPerUpdate = (k: string) => runs.get(k)!.map((r) => (r.cpuSeconds * 1e6) / r.updates).sort((a, b) => a - b)[Math.floor(runs.get(k)!.length / 2)]!;
  const head = `${'scheduler API'.padEnd(16)}${flags.security ? 'security'.padEnd(12) : ''}${'updates'.padStart(9)}${'seconds'.padStart(10)}${'acked/s'.padStart(10)}${'µs/update'.padStart(11)}${'CPU µs/upd'.padStart(12)}`;
  console.log(`\n${head}${flags.security ? `${'vs plain'.padStart(10)}${'+µs/update'.padStart(12)}` : 'vs gRPC'.padStart(10)}`);
  for (const api of APIS) {
    const plain = median(key(api, securities[0]!));
    for (const security of securities) {
      const m = median(key(api, security));
      const perUpdate = (r: Run) => (r.seconds * 1e6) / r.updates;
      const cells = `${api.padEnd(16)}${flags.security ? security.name.padEnd(12) : ''}${String(m.updates).padStart(9)}${m.seconds.toFixed(2).padStart(10)}` +
        `${Math.round(rate(m)).toString().padStart(10)}${perUpdate(m).toFixed(0).padStart(11)}${cpuPerUpdate(key(api, security)).toFixed(0).padStart(12)}`;
      const tail = flags.security
        ? `${(rate(m) / rate(plain)).toFixed(2).padStart(10)}${(perUpdate(m) - perUpdate(plain)).toFixed(0).padStart(12)}`
        : (rate(m) / grpc).toFixed(2).padStart(10);
      console.log(cells + tail);
    }
  }
  const mode = flags.security ? 'plain, authenticated, mutual TLS and both alternating in each round'
    : `authentication ${flags.authenticate ? 'on' : 'off'}, TLS ${flags.tls ? 'on (mutual)' : 'off'}`;
  console.log(`${flags.tasks} tasks x ${SCRIPT.length} updates each, median of ${flags.rounds} alternating rounds; ` +
    `HTTP calls on ${flags.connections} kept-alive connections, gRPC on one HTTP/2 connection; ${mode}; ${((Date.now() - started) / 1000).toFixed(1)} s in all`);
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err instanceof Error ? err.stack : String(err));
    process.exit(1);
  },
);

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
// APIs; the table shows the median round.
// With --authenticate the masters authenticate frameworks and agents and every
// client presents its credential: run it beside a plain run to see the cost.
//   npx tsx bench/api.ts [--tasks 2000] [--rounds 3] [--connections 8] [--authenticate]
import { startMaster, type RunningMaster } from '../master/main.js';
import { parseFlags } from '../common/flags.js';
import { basicAuthorization } from '../common/credentials.js';
import { Resources } from '../common/resources.js';
import type { TaskInfoIn } from '../proto/index.js';
import { LinkAgent } from '../test/harness/link-agent.js';
import { RawScheduler } from '../test/harness/grpc-scheduler.js';
import { MesosHttpClient, type JsonOffer } from '../test/harness/mesos-http-client.js';

const FLAGS = {
  tasks: { type: 'number', default: 2000, help: 'tasks launched per run; each sends 2 updates' },
  rounds: { type: 'number', default: 3, help: 'runs of each API, alternating' },
  connections: { type: 'number', default: 8, help: 'kept-alive HTTP connections the HTTP scheduler sends its calls on' },
  authenticate: { type: 'boolean', default: false, help: 'masters authenticate frameworks and agents (gRPC metadata, HTTP basic auth); clients present credentials' },
} as const;

/** With --authenticate: the one credential every client presents, and the master's file of them. */
const CREDENTIAL = { principal: 'bench', secret: 'bench-secret' };
let authenticate = false;

type Api = 'gRPC' | 'HTTP JSON' | 'HTTP protobuf';
const APIS: readonly Api[] = ['gRPC', 'HTTP JSON', 'HTTP protobuf'];
const SCRIPT = ['TASK_RUNNING', 'TASK_FINISHED'] as const;
const TIMEOUT_MS = 30_000;

interface Run {
  readonly updates: number;
  readonly seconds: number;
}

/** What the scheduler side needs: subscribe, the first offer, ACCEPT, a hook on each UPDATE; it acknowledges on its own. */
interface BenchScheduler {
  subscribe(): Promise<void>;
  firstOffer(): Promise<{ offerId: string; agentId: string }>;
  launch(offerId: string, tasks: TaskInfoIn[]): Promise<void>;
  firstUpdate(): Promise<number>;
  close(): void;
}

function grpcScheduler(master: RunningMaster): BenchScheduler {
  const s = new RawScheduler(master.grpcAddress, authenticate ? CREDENTIAL : undefined);
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

function httpScheduler(master: RunningMaster, encoding: 'json' | 'protobuf', connections: number): BenchScheduler {
  const c = new MesosHttpClient({
    master: master.httpAddress, encoding, autoAcknowledge: true, callConnections: connections,
    ...(authenticate ? { authorization: basicAuthorization(CREDENTIAL) } : {}),
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

async function measure(api: Api, tasks: number, connections: number): Promise<Run> {
  const security = authenticate
    ? { authenticate_frameworks: true, authenticate_agents: true, authenticate_http_frameworks: true, credentials: JSON.stringify({ credentials: [CREDENTIAL] }) }
    : {};
  const master = await startMaster({ port: 0, grpc_port: 0, allocation_interval: 0.05, quiet: true, ...security });
  const agent = new LinkAgent({
    master: master.grpcAddress, resources: `cpus:${tasks * 0.01 + 1};mem:${tasks + 64}`, script: SCRIPT, retrySeconds: 60,
    ...(authenticate ? { credential: CREDENTIAL } : {}),
  });
  const scheduler = api === 'gRPC' ? grpcScheduler(master) : httpScheduler(master, api === 'HTTP JSON' ? 'json' : 'protobuf', connections);
  try {
    await agent.start();
    await scheduler.subscribe();
    const { offerId, agentId } = await scheduler.firstOffer();
    const total = tasks * SCRIPT.length;
    const done = new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${api}: ${agent.acknowledged} of ${total} updates acknowledged after ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
      agent.onAcknowledged = () => {
        if (agent.acknowledged < total) return;
        clearTimeout(timer);
        resolve(performance.now());
      };
    });
    const demand = Resources.parse('cpus:0.01;mem:1').toProto();
    const taskInfos: TaskInfoIn[] = Array.from({ length: tasks }, (_, i) => ({
      name: `t${i}`, task_id: { value: `t${i}` }, agent_id: { value: agentId }, resources: demand, command: { value: 'true' },
    }));
    const first = scheduler.firstUpdate();
    await scheduler.launch(offerId, taskInfos);
    const [t0, t1] = await Promise.all([first, done]);
    return { updates: total, seconds: (t1 - t0) / 1000 };
  } finally {
    scheduler.close();
    agent.stop();
    await master.stop();
  }
}

async function main(): Promise<void> {
  const flags = parseFlags(FLAGS, process.argv.slice(2));
  authenticate = flags.authenticate;
  const runs = new Map<Api, Run[]>(APIS.map((api) => [api, []]));
  const started = Date.now();
  for (const api of APIS) await measure(api, Math.min(500, flags.tasks), flags.connections); // Warm-up: JIT, module loading.
  for (let round = 0; round < flags.rounds; round++) {
    for (const api of APIS) {
      const run = await measure(api, flags.tasks, flags.connections);
      runs.get(api)!.push(run);
      process.stderr.write(`round ${round + 1} ${api}: ${Math.round(run.updates / run.seconds)} updates/s\n`);
    }
  }
  const median = (api: Api) => {
    const sorted = [...runs.get(api)!].sort((a, b) => a.updates / a.seconds - b.updates / b.seconds);
    return sorted[Math.floor(sorted.length / 2)]!;
  };
  const rate = (r: Run) => r.updates / r.seconds;
  const grpc = rate(median('gRPC'));
  console.log(`\n${'scheduler API'.padEnd(16)}${'updates'.padStart(9)}${'seconds'.padStart(10)}${'acked/s'.padStart(10)}${'vs gRPC'.padStart(10)}`);
  for (const api of APIS) {
    const m = median(api);
    console.log(`${api.padEnd(16)}${String(m.updates).padStart(9)}${m.seconds.toFixed(2).padStart(10)}${Math.round(rate(m)).toString().padStart(10)}${(rate(m) / grpc).toFixed(2).padStart(10)}`);
  }
  console.log(`${flags.tasks} tasks x ${SCRIPT.length} updates each, median of ${flags.rounds} alternating rounds; ` +
    `HTTP calls on ${flags.connections} kept-alive connections, gRPC on one HTTP/2 connection; ` +
    `authentication ${authenticate ? 'on' : 'off'}; ${((Date.now() - started) / 1000).toFixed(1)} s in all`);
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err instanceof Error ? err.stack : String(err));
    process.exit(1);
  },
);

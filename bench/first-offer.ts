// bench/first-offer: the master's own time from a framework's SUBSCRIBE to
// its first OFFERS event, with N agents registered and nothing offered yet.
// The master runs in this process (no ZooKeeper: its registry in memory,
// no gRPC: agents register through Master.registerAgent over a connection
// that discards what the master sends, frameworks through Master.subscribe
// with a sink that records when each event arrives). So what is timed is the
// master's work (registry write, SUBSCRIBED, the allocation pass, building
// the offers) and what waits on its event loop, not the wire. M frameworks
// subscribe at once, as bench:scale's schedulers do; printed for each
// --allocation_pass_budget given. With --wire the frameworks are SDK
// Schedulers in a fresh process of their own (first-offer-schedulers.ts),
// over gRPC: what is timed then runs to the first offer dispatched by the
// SDK, encoding and decoding included.
//   npx tsx bench/first-offer.ts [--agents 10000] [--frameworks 10] [--budgets 0,0.05] [--rounds 3] [--wire]
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startMaster } from '../master/main.js';
import { parseFlags, usage, type FlagSpecs } from '../common/flags.js';
import { Resources } from '../common/resources.js';
import { eventBytes } from '../master/http-api/scheduler-codec.js';
import type { AgentConnection, EventSink } from '../master/master.js';
import type { Call, EventIn } from '../proto/index.js';
import type { WireFramework } from './first-offer-schedulers.js';

const FLAGS = {
  agents: { type: 'number', default: 10000, help: 'agents registered' },
  frameworks: { type: 'number', default: 10, help: 'frameworks subscribing at once' },
  budgets: { type: 'string', default: '0,0.05', help: "the master's --allocation_pass_budget for each round, seconds" },
  rounds: { type: 'number', default: 3, help: 'rounds per budget (a fresh master each)' },
  wire: { type: 'boolean', default: false, help: 'frameworks as SDK Schedulers in a fresh process of their own, over gRPC' },
} as const satisfies FlagSpecs;

const say = (line: string) => process.stdout.write(line + '\n');
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;

interface Round {
  readonly firstOfferMs: number[];
  readonly firstOffers: number[];
  readonly firstEventBytes: number[];
  readonly allOfferedMs: number;
  readonly loopMaxMs: number;
  readonly subscribedMs: number[];
  /** Allocation passes: when each ended (ms after the subscriptions) and how long it ran. */
  readonly passes: { readonly at: number; readonly ms: number }[];
  /** CPU ms of each pass's turn, its offers made and sent included (robust to a busy machine, unlike the wall-clock figures). */
  readonly passTurnCpuMs: number[];
}

/** A master in this process with `agents` registered and nothing offered yet; each pass's turn timed in CPU. */
async function benchMaster(agents: number, budget: number) {
  const running = await startMaster({ port: 0, grpc_port: 0, allocation_interval: 3600, allocation_pass_budget: budget, quiet: true }, () => {});
  const master = running.master;
  const conn: AgentConnection = { open: true, send: () => {}, close: () => {} };
  const total = Resources.parse('cpus:16;mem:65536;disk:100000').toProto();
  await Promise.all(Array.from({ length: agents }, (_, i) => master.registerAgent({
    agent_info: { hostname: `host-${i}`, port: 5051, resources: total, attributes: [] }, tasks: [], frameworks: [], version: 'bench',
  } as never, conn)));
  const passTurnCpuMs: number[] = [];
  const pass = master.runAllocation.bind(master);
  master.runAllocation = () => {
    const cpu = process.cpuUsage();
    pass();
    const used = process.cpuUsage(cpu);
    passTurnCpuMs.push((used.user + used.system) / 1000);
  };
  return { running, master, passTurnCpuMs };
}

async function round(agents: number, frameworks: number, budget: number): Promise<Round> {
  const { running, master, passTurnCpuMs } = await benchMaster(agents, budget);
  try {
    // Longest stretch the loop was held, from the subscriptions to the last offer.
    let loopMaxMs = 0;
    let last = performance.now();
    const ticker = setInterval(() => {
      const now = performance.now();
      loopMaxMs = Math.max(loopMaxMs, now - last - 1);
      last = now;
    }, 1);
    const started = performance.now();
    const firstOfferMs: number[] = [];
    const firstOffers: number[] = [];
    const firstEventBytes: number[] = [];
    const subscribedMs: number[] = [];
    const passes: { at: number; ms: number }[] = [];
    const unlisten = master.events.listen((e) => {
      if (e.type === 'ALLOCATION_RUN') passes.push({ at: performance.now() - started, ms: e.ms });
    });
    let offered = 0;
    let allOffered = 0;
    const done = new Promise<void>((resolve) => {
      for (let i = 0; i < frameworks; i++) {
        let first = true;
        const sink: EventSink = {
          send: (event: EventIn) => {
            if (event.type === 'SUBSCRIBED') subscribedMs.push(performance.now() - started);
            if (event.type !== 'OFFERS') return;
            const n = event.offers?.offers?.length ?? 0;
            if (first) {
              first = false;
              firstOfferMs.push(performance.now() - started);
              firstOffers.push(n);
              firstEventBytes.push(eventBytes(event).length);
            }
            offered += n;
            if (offered >= agents) {
              allOffered = performance.now() - started;
              resolve();
            }
          },
          close: () => {}, queued: 0, queuedBytes: 0,
        };
        const call = { type: 'SUBSCRIBE', subscribe: { framework_info: { name: `fw-${i}`, user: 'bench', roles: [], capabilities: [], failover_timeout: 60 }, suppressed_roles: [] } };
        void master.subscribe(call as unknown as Call, () => sink);
      }
    });
    await done;
    clearInterval(ticker);
    unlisten();
    return { firstOfferMs, firstOffers, firstEventBytes, allOfferedMs: allOffered, loopMaxMs, subscribedMs, passes, passTurnCpuMs };
  } finally {
    await running.stop();
  }
}

interface WireRound {
  readonly frameworks: readonly WireFramework[];
  /** The master's FIRST_OFFER_SENT: SUBSCRIBED sent -> first OFFERS sent, ms. */
  readonly masterSubscribedToOfferMs: number[];
  readonly passTurnCpuMs: number[];
}

/** The same, with the frameworks as SDK Schedulers in a fresh process, over gRPC. */
async function wireRound(agents: number, frameworks: number, budget: number): Promise<WireRound> {
  const { running, master, passTurnCpuMs } = await benchMaster(agents, budget);
  const child = fork(fileURLToPath(new URL('./first-offer-schedulers.ts', import.meta.url)), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    const masterSubscribedToOfferMs: number[] = [];
    const unlisten = master.events.listen((e) => {
      if (e.type === 'FIRST_OFFER_SENT') masterSubscribedToOfferMs.push(e.ms);
    });
    const reported: WireFramework[] = [];
    await new Promise<void>((resolve, reject) => {
      const timeout = setTimeout(() => reject(new Error(`${frameworks - reported.length} of ${frameworks} frameworks had no offer within 60 s`)), 60_000);
      child.on('message', (m: WireFramework | { ready: true }) => {
        if ('ready' in m) {
          passTurnCpuMs.length = 0; // the passes of the registrations, with no framework to offer to
          return void child.send({ master: running.grpcAddress, names: Array.from({ length: frameworks }, (_, i) => `fw-${i}`) });
        }
        reported.push(m);
        if (reported.length === frameworks) {
          clearTimeout(timeout);
          resolve();
        }
      });
    });
    unlisten();
    return { frameworks: reported, masterSubscribedToOfferMs, passTurnCpuMs };
  } finally {
    child.kill();
    await running.stop();
  }
}

function sayWire(x: WireRound): void {
  const fws = [...x.frameworks].sort((a, b) => a.subscribedAt! - b.subscribedAt!);
  const fmt = (xs: number[]) => `p50 ${pct(xs, 0.5).toFixed(0)}, max ${Math.max(...xs).toFixed(0)}`;
  say(`  SDK: start() -> SUBSCRIBED ${fmt(fws.map((f) => f.subscribedAt! - f.startedAt))} ms; SUBSCRIBED -> first offer ${fmt(fws.map((f) => f.firstOfferAt! - f.subscribedAt!))} ms, `
    + `in order of SUBSCRIBED: ${fws.map((f) => (f.firstOfferAt! - f.subscribedAt!).toFixed(0)).join(' ')}`);
  say(`  the first subscriber: ${fws[0]!.firstOffers} offers in its first event; scheduler process CPU from its SUBSCRIBED to that offer ${(fws[0]!.firstOfferCpuMs! - fws[0]!.subscribedCpuMs!).toFixed(1)} ms; `
    + `first Scheduler constructed in ${fws.map((f) => f.constructMs).reduce((a, b) => Math.max(a, b), 0).toFixed(0)} ms`);
  say(`  master: SUBSCRIBED -> first OFFERS sent ${fmt(x.masterSubscribedToOfferMs)} ms; first pass turn CPU ${x.passTurnCpuMs[0]?.toFixed(1) ?? '—'} ms, `
    + `pass turns CPU ${fmt(x.passTurnCpuMs)} ms`);
}

async function main(): Promise<void> {
  const flags = parseFlags(FLAGS, process.argv.slice(2));
  if (flags.help) {
    process.stdout.write(usage('bench:first-offer', "the master's own time from SUBSCRIBE to the first offer, in one process", FLAGS) + '\n');
    return;
  }
  say(`${flags.agents} agents, ${flags.frameworks} frameworks subscribing at once, ${flags.rounds} rounds per budget`);
  for (const budget of flags.budgets.split(',').map(Number)) {
    for (let r = 0; r < flags.rounds; r++) {
      if (flags.wire) {
        say(`budget ${budget * 1000} ms, over the wire:`);
        sayWire(await wireRound(flags.agents, flags.frameworks, budget));
        continue;
      }
      const x = await round(flags.agents, flags.frameworks, budget);
      say(`budget ${budget * 1000} ms: first offer p50 ${pct(x.firstOfferMs, 0.5).toFixed(0)} ms, max ${Math.max(...x.firstOfferMs).toFixed(0)} ms; `
        + `first OFFERS holds ${pct(x.firstOffers, 0.5)} offers (p50), ${(pct(x.firstEventBytes, 0.5) / 1024).toFixed(0)} KiB; `
        + `all ${flags.agents} agents offered after ${x.allOfferedMs.toFixed(0)} ms; loop held at most ${x.loopMaxMs.toFixed(0)} ms`);
      const first = x.passes[0];
      say(`  SUBSCRIBED p50 ${pct(x.subscribedMs, 0.5).toFixed(0)} ms, max ${Math.max(...x.subscribedMs).toFixed(0)} ms; ${x.passes.length} passes, `
        + `the first ended at ${first?.at.toFixed(0) ?? '—'} ms and ran ${first?.ms.toFixed(1) ?? '—'} ms, the longest ran ${Math.max(...x.passes.map((p) => p.ms)).toFixed(1)} ms`);
      say(`  pass turns with their offers, CPU: p50 ${pct(x.passTurnCpuMs, 0.5).toFixed(1)} ms, max ${Math.max(...x.passTurnCpuMs).toFixed(1)} ms`);
    }
  }
}

main().catch((err) => {
  process.stderr.write(`bench/first-offer: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});

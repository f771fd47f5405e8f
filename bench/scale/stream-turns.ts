// bench/scale/stream-turns: how many event-loop turns, how much wall time and
// how much CPU a burst of K scheduler events takes to cross one grpc-js
// server stream, with the master's EventBacklog in front of it as on a
// scheduler's stream, with and without writeWaitingTogether
// (common/grpc-batched-writes.ts). Server and client share this process and
// loopback, so the turn count does not depend on what else runs on the
// machine; the wall time does. The events are real UPDATE events, encoded
// as the master sends them. Rounds alternate between the two ways.
//   npx tsx bench/scale/stream-turns.ts [--events 5000] [--rounds 4]
import * as grpc from '@grpc/grpc-js';
import type { ServerWritableStream } from '@grpc/grpc-js';
import { parseFlags, usage, type FlagSpecs } from '../../common/flags.js';
import { EventBacklog } from '../../master/event-backlog.js';
import { writeWaitingTogether } from '../../common/grpc-batched-writes.js';
import { eventBytes } from '../../master/http-api/scheduler-codec.js';

const FLAGS = {
  events: { type: 'number', default: 5000, help: 'events in each burst' },
  rounds: { type: 'number', default: 4, help: 'rounds of each way, alternating' },
} as const satisfies FlagSpecs;

const pass = (b: Buffer) => b;
const SERVICE = {
  Stream: { path: '/bench.Turns/Stream', requestStream: false, responseStream: true, requestSerialize: pass, requestDeserialize: pass, responseSerialize: pass, responseDeserialize: pass },
} as const;

function update(i: number): Buffer {
  return eventBytes({
    type: 'UPDATE',
    update: {
      status: {
        task_id: { value: `scale-0001-4242-${i}` }, agent_id: { value: '2f392509-6939-408f-a2d8-e95591194a6d-S495' }, state: 'TASK_RUNNING',
        source: 'SOURCE_EXECUTOR', timestamp: Date.now() / 1000, uuid: Buffer.alloc(16, i % 256),
      },
    },
  });
}

interface Round {
  readonly ms: number;
  readonly turns: number;
  readonly cpuMs: number;
}

async function round(client: grpc.Client, events: number, batched: boolean, serve: { batched: boolean }): Promise<Round> {
  serve.batched = batched;
  let turns = 0;
  let done = false;
  const tick = () => {
    turns++;
    if (!done) setImmediate(tick);
  };
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  setImmediate(tick);
  await new Promise<void>((resolve, reject) => {
    let got = 0;
    const call = client.makeServerStreamRequest(SERVICE.Stream.path, pass, pass, Buffer.alloc(0));
    call.on('data', () => {
      if (++got < events) return;
      call.cancel();
      resolve();
    });
    call.on('error', (err: grpc.ServiceError) => (err.code === grpc.status.CANCELLED ? undefined : reject(err)));
  });
  done = true;
  const cpu = process.cpuUsage(cpu0);
  return { ms: performance.now() - t0, turns, cpuMs: (cpu.user + cpu.system) / 1000 };
}

async function main(): Promise<void> {
  const flags = parseFlags(FLAGS, process.argv.slice(2));
  if (flags.help) return void process.stdout.write(usage('stream-turns', 'K events across one grpc-js server stream, with and without writeWaitingTogether', FLAGS) + '\n');
  const burst = Array.from({ length: flags.events }, (_, i) => update(i));
  const serve = { batched: false };
  const server = new grpc.Server();
  server.addService(SERVICE, {
    Stream: (call: ServerWritableStream<Buffer, Buffer>) => {
      if (serve.batched) writeWaitingTogether(call);
      const backlog = new EventBacklog<Buffer>(call, { events: Number.MAX_SAFE_INTEGER, bytes: Number.MAX_SAFE_INTEGER, measure: (e) => ({ event: e, bytes: e.length }) }, () => {});
      call.on('drain', () => backlog.drained());
      for (const e of burst) backlog.push(e); // all at once, as a registry batch releasing many UPDATEs does
    },
  });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  process.stdout.write(`${flags.events} UPDATE events of ${burst[0]!.length} bytes across one server stream, ${flags.rounds} rounds each way, alternating\n`);
  const results: Record<'one at a time' | 'together', Round[]> = { 'one at a time': [], together: [] };
  await round(client, flags.events, false, serve); // warm-up
  for (let r = 0; r < flags.rounds; r++) {
    for (const batched of [false, true]) {
      const res = await round(client, flags.events, batched, serve);
      results[batched ? 'together' : 'one at a time'].push(res);
      process.stdout.write(`  ${batched ? 'together     ' : 'one at a time'}  ${res.ms.toFixed(0).padStart(6)} ms  ${String(res.turns).padStart(6)} loop turns  ${res.cpuMs.toFixed(0).padStart(6)} ms CPU\n`);
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  for (const [way, rs] of Object.entries(results)) {
    process.stdout.write(`${way.padEnd(14)} median: ${median(rs.map((x) => x.ms)).toFixed(0)} ms, ${median(rs.map((x) => x.turns))} loop turns, ` +
      `${median(rs.map((x) => (1000 * x.cpuMs) / flags.events)).toFixed(1)} ms CPU per 1,000 events\n`);
  }
  client.close();
  server.forceShutdown();
}

main().then(() => process.exit(0), (err: unknown) => {
  console.error(err);
  process.exit(1);
});

// gRPC serialize, before and after the plain encoder: protobufjs's
// fromObject + encode (what serialize did) against proto/plain-encoder.ts
// (what it does), on messages a real master sends (test harness, no
// network): OFFERS events with 1, 16 and 200 offers, an UPDATE with data
// bytes, a RunTask. Per message and round, the two run in turn (A B A B),
// each for --ms of CPU time; prints CPU ns per message, V8 heap bytes allocated
// per message (measured apart, between two forced GCs, on a batch small
// enough that no GC runs) and GC time per 1,000 messages, and the ratios.
//
//   npm run bench:encode -- --rounds 4 --ms 400
import { parseArgs } from 'node:util';
import { GCProfiler, getHeapStatistics } from 'node:v8';
import { messageCodec, serializeViaFromObject, wireType } from '../proto/index.js';
import { captureMasterMessages } from '../test/harness/captured-messages.js';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '4' }, ms: { type: 'string', default: '400' } } });
const rounds = Number(values.rounds);
const ms = Number(values.ms);
if (!Number.isInteger(rounds) || rounds < 1 || !(ms > 0)) {
  console.error('--rounds takes a positive integer, --ms a positive number');
  process.exit(2);
}
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  console.error('run with node --expose-gc (npm run bench:encode does)');
  process.exit(2);
}

/** Runs `work` under V8's GC profiler (synchronous, unlike GC performance entries): the collections it caused and their cost. */
function withGcProfile(work: () => void): { collections: number; gcMs: number } {
  const profiler = new GCProfiler();
  profiler.start();
  work();
  const { statistics } = profiler.stop() as unknown as { statistics: { cost: number }[] };
  return { collections: statistics.length, gcMs: statistics.reduce((sum, s) => sum + s.cost, 0) / 1000 };
}

const captured = await captureMasterMessages(200);
const offers = (n: number) => ({ type: 'OFFERS', offers: { offers: captured.offers.slice(0, n) } });
const EVENT = 'mesos.v1.scheduler.Event';
const cases = [
  { name: 'OFFERS, 1 offer', typeName: EVENT, message: offers(1) },
  { name: 'OFFERS, 16 offers', typeName: EVENT, message: offers(16) },
  { name: 'OFFERS, 200 offers', typeName: EVENT, message: offers(200) },
  { name: 'UPDATE (data bytes)', typeName: EVENT, message: captured.update },
  { name: 'RunTask', typeName: 'mesos_ts.internal.MasterMessage', message: captured.runTask },
];

interface Way { readonly label: string; readonly serialize: (message: unknown) => Buffer }
interface Figures { ns: number[]; gcPerThousand: number[]; heapBytes: number[] }

/** CPU microseconds this process has used (its GC threads' too: their work is part of the cost). */
const cpuMicros = () => {
  const { user, system } = process.cpuUsage();
  return user + system;
};

/** Runs `serialize` for `ms` of CPU time; CPU ns per call and GC ms per 1,000 calls. CPU, not wall time: other processes share the machine. */
function timed(serialize: (m: unknown) => Buffer, message: unknown): { ns: number; gcPerThousand: number } {
  gc!();
  let calls = 0;
  let sink = 0;
  let cpu = 0;
  const { gcMs } = withGcProfile(() => {
    const start = cpuMicros();
    const end = start + ms * 1000;
    let now = start;
    while (now < end) {
      for (let i = 0; i < 20; i++) sink += serialize(message).length;
      calls += 20;
      now = cpuMicros();
    }
    cpu = now - start;
  });
  if (sink === 0) throw new Error('nothing serialized');
  return { ns: (cpu * 1000) / calls, gcPerThousand: (gcMs / calls) * 1000 };
}

/** V8 heap bytes one call allocates: a batch of about 4 MB between a forced GC and a reading, retried smaller if a GC ran during it. */
function heapBytes(serialize: (m: unknown) => Buffer, message: unknown): number {
  let batch = 1;
  for (let attempt = 0; attempt < 6; attempt++) {
    gc!();
    let bytes = 0;
    const { collections } = withGcProfile(() => {
      const before = getHeapStatistics().used_heap_size;
      for (let i = 0; i < batch; i++) serialize(message);
      bytes = (getHeapStatistics().used_heap_size - before) / batch;
    });
    if (collections === 0 && attempt > 0) return bytes;
    batch = collections === 0 ? Math.max(1, Math.floor(4e6 / Math.max(bytes, 1))) : Math.max(1, Math.floor(batch / 4));
  }
  return Number.NaN;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

console.log(`bench:encode: ${rounds} rounds of ${ms} ms per way and message, A B A B; figures are medians over rounds; load average ${(await import('node:os')).loadavg().map((x) => x.toFixed(1)).join(' ')}`);
for (const c of cases) {
  const type = wireType(c.typeName);
  const codec = messageCodec<unknown, unknown>(c.typeName);
  const ways: Way[] = [
    { label: 'fromObject + encode', serialize: (m) => serializeViaFromObject(type, m) },
    { label: 'plain encoder', serialize: (m) => codec.serialize(m) },
  ];
  const bytes = ways.map((w) => w.serialize(c.message).toString('hex'));
  if (bytes[0] !== bytes[1]) throw new Error(`${c.name}: the two ways write different bytes`);
  const figures: Figures[] = ways.map(() => ({ ns: [], gcPerThousand: [], heapBytes: [] }));
  for (const w of ways) timed(w.serialize, c.message); // warm-up, both ways
  for (let round = 0; round < rounds; round++) {
    // A B in even rounds, B A in odd ones: neither way always runs first.
    const order = round % 2 === 0 ? [0, 1] : [1, 0];
    for (const i of order) {
      const { ns, gcPerThousand } = timed(ways[i]!.serialize, c.message);
      figures[i]!.ns.push(ns);
      figures[i]!.gcPerThousand.push(gcPerThousand);
      figures[i]!.heapBytes.push(heapBytes(ways[i]!.serialize, c.message));
    }
  }
  const [before, after] = figures.map((f) => ({ ns: median(f.ns), gc: median(f.gcPerThousand), heap: median(f.heapBytes) }));
  console.log(`\n${c.name} (${fmt(bytes[0]!.length / 2)} bytes on the wire)`);
  for (const [i, w] of ways.entries()) {
    const f = i === 0 ? before! : after!;
    console.log(`  ${w.label.padEnd(20)} ${fmt(f.ns).padStart(9)} CPU ns/msg  ${fmt(f.heap).padStart(9)} heap B/msg  ${fmt(f.gc, 2).padStart(7)} ms GC per 1,000 msgs   (rounds: ${figures[i]!.ns.map((x) => fmt(x)).join(', ')} ns)`);
  }
  console.log(`  plain / fromObject: time ${fmt(after!.ns / before!.ns, 2)}x, heap ${fmt(after!.heap / before!.heap, 2)}x, GC ${before!.gc > 0 ? fmt(after!.gc / before!.gc, 2) + 'x' : 'n/a'}`);
}

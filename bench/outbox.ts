// The master's outbox under a deep queue: N operations wait behind one
// registry write (as at M=100 frameworks, when every call queues behind the
// write in flight), then the write completes and the queue drains, a 10 ms
// budget per turn as in the master. Prints the CPU time of the drain for
// this checkout's dist/ and, with --baseline DIR, for another checkout's,
// in turn (A B A B), so the figures come from the same sitting.
//
//   npx tsx bench/outbox.ts --operations 20000,50000 --rounds 3 --baseline /work/other-checkout
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    operations: { type: 'string', default: '10000,30000,60000' },
    rounds: { type: 'string', default: '3' },
    baseline: { type: 'string' },
  },
});
const sizes = values.operations.split(',').map(Number);
const rounds = Number(values.rounds);
if (sizes.some((n) => !Number.isInteger(n) || n < 1) || !Number.isInteger(rounds) || rounds < 1) {
  console.error('--operations takes positive integers (comma-separated), --rounds a positive integer');
  process.exit(2);
}

interface OutboxLike {
  push(stored: Promise<void> | null, effects: readonly unknown[]): Promise<void>;
}
type OutboxClass = new (run: (effects: readonly unknown[]) => void, onError: (err: unknown) => void) => OutboxLike;

async function load(dir: string): Promise<OutboxClass> {
  const mod = (await import(pathToFileURL(resolve(dir, 'dist/master/outbox.js')).href)) as { Outbox: OutboxClass };
  return mod.Outbox;
}

/** CPU ms from the write's completion until every queued operation's effects ran. */
async function drainCpuMs(Outbox: OutboxClass, operations: number): Promise<number> {
  let ran = 0;
  const box = new Outbox(() => void ran++, (err) => {
    throw err;
  });
  let store!: () => void;
  const stored = new Promise<void>((res) => (store = res));
  const effect = { type: 'dropStream', frameworkId: 'fw', streamId: 's' };
  const last: Promise<void>[] = [];
  for (let i = 0; i < operations; i++) last[0] = box.push(i === 0 ? stored : null, [effect]);
  const before = process.cpuUsage();
  store();
  await last[0];
  const used = process.cpuUsage(before);
  if (ran !== operations) throw new Error(`ran ${ran} of ${operations}`);
  return (used.user + used.system) / 1000;
}

const versions: [string, OutboxClass][] = [['this checkout', await load('.')]];
if (values.baseline) versions.push([`baseline ${values.baseline}`, await load(values.baseline)]);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(`outbox drain, CPU ms (median of ${rounds}, versions in turn):`);
for (const n of sizes) {
  const times = new Map<string, number[]>(versions.map(([name]) => [name, []]));
  for (let r = 0; r < rounds; r++) for (const [name, Outbox] of versions) times.get(name)!.push(await drainCpuMs(Outbox, n));
  const row = versions.map(([name]) => `${name} ${median(times.get(name)!).toFixed(1)}`).join(', ');
  const ratio = versions.length === 2 ? `, baseline / this ${(median(times.get(versions[1]![0])!) / median(times.get(versions[0]![0])!)).toFixed(1)}x` : '';
  console.log(`  ${String(n).padStart(7)} operations: ${row}${ratio}`);
}

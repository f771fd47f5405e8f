// bench/nemesis: the randomized fault run of issue 16. A cluster (3 masters
// electing through ZooKeeper, agents running tasks in containers on the
// Docker engine, load frameworks launching and killing tasks) takes seeded
// random faults for --seconds; then everything is healed, the cluster
// settles, and a checker goes over the recorded history and the end state.
// On loopback by default; with --hosts, each master, agent and member of a
// 3-node ZooKeeper ensemble on a simulated host (a network namespace), with
// partitions and ensemble members lost among the faults. --concurrency N lets
// up to N faults hold at once. Prints the seed and each fault as it goes;
// the same seed replays the same schedule. Exits 1 on any violation, 2 on a
// run that could not finish.
// A run that cannot be made as asked (an unknown fault, a partition on
// loopback, a clock jump without libfaketime) is refused with exit 2 before
// anything starts.
//   npm run nemesis -- [--seconds 300] [--seed S] [--hosts] [--concurrency 1] [--faults a,b [--in_order]] [--out DIR] [--agents 3] [--frameworks 2]
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseFlags, usage, type FlagSpecs } from '../common/flags.js';
import { refusedOptions, runNemesis, type RunOptions } from '../test/nemesis/run.js';
import type { NemesisCluster } from '../test/nemesis/cluster.js';

const FLAGS = {
  seconds: { type: 'number', default: 300, help: 'how long faults are injected' },
  seed: { type: 'number', help: 'seeds the fault schedule and the frameworks (default: random, printed)' },
  out: { type: 'string', help: 'where history.jsonl and the logs go (default: $TMPDIR/mesos-ts-nemesis-SEED)' },
  agents: { type: 'number', default: 3, help: 'agents' },
  frameworks: { type: 'number', default: 2, help: 'load frameworks' },
  hosts: { type: 'boolean', default: false, help: 'each master, agent and ZooKeeper member (3) on a simulated host, with partitions among the faults (root)' },
  concurrency: { type: 'number', default: 1, help: 'faults that may hold at once' },
  faults: { type: 'string', help: 'only these faults, comma-separated (e.g. restart-engine,fill-disk,jump-clock; default: every one)' },
  in_order: { type: 'boolean', default: false, help: 'play --faults once each, in their order (gaps and holds still seeded), then end' },
} as const satisfies FlagSpecs;

async function main(): Promise<number> {
  const flags = parseFlags(FLAGS, process.argv.slice(2));
  if (flags.help) {
    console.log(usage('npm run nemesis --', 'a randomized fault run with a history checker', FLAGS));
    return 0;
  }
  const seed = flags.seed ?? Math.floor(Math.random() * 2 ** 31);
  const asked = {
    seconds: flags.seconds, agents: flags.agents, frameworks: flags.frameworks, hosts: flags.hosts, concurrency: flags.concurrency, inOrder: flags.in_order,
    faults: flags.faults?.split(',').map((f) => f.trim()).filter((f) => f !== ''),
  } satisfies Partial<RunOptions>;
  const refused = refusedOptions(asked);
  if (refused.length > 0) {
    for (const reason of refused) console.error(`npm run nemesis: ${reason}`);
    return 2;
  }
  let cluster: NemesisCluster | null = null;
  let interrupted = false;
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      interrupted = true;
      process.stderr.write(`\n${sig}: stopping every process and container of the run\n`);
      void (cluster?.stop() ?? Promise.resolve()).finally(() => process.exit(130));
    });
  }
  const report = await runNemesis({
    ...asked, seed, out: flags.out ?? join(tmpdir(), `mesos-ts-nemesis-${flags.hosts ? 'hosts-' : ''}${seed}`), aborted: () => interrupted, started: (c) => (cluster = c),
  });
  return report.violations > 0 ? 1 : 0;
}

main().then((code) => process.exit(code), (err) => {
  console.error(err);
  process.exit(2);
});

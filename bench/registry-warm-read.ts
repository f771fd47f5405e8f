// The registry read a new leader does, warm (a standby's copy, caught up
// through the log) against cold (every znode), on a real ZooKeeper: N agents
// with four tasks each, written by a leader and followed by a standby until
// it has applied every entry (as during the session timeout an election
// waits after a SIGKILL); then the leader's session closes, and the
// standby's warm read and a cold read follow each other in every round.
//
//   npx tsx bench/registry-warm-read.ts [--agents 5000] [--rounds 3]
import { parseFlags, type FlagSpecs } from '../common/flags.js';
import { startLocalZooKeeper } from '../common/zk/local-server.js';
import { ZkSession } from '../common/zk/session.js';
import { Registry, type RegistryTask } from '../master/registry/registry.js';
import { ZkRegistryStore } from '../master/registry/zk-store.js';
import { entryNumbers } from '../master/registry/zk-log.js';
import type { AgentInfoOut } from '../proto/index.js';
import { loadavg } from 'node:os';

const FLAGS = {
  agents: { type: 'number', default: 5000, help: 'agents in the registry' },
  rounds: { type: 'number', default: 3, help: 'warm and cold reads, in turn' },
} as const satisfies FlagSpecs;
const flags = parseFlags(FLAGS, process.argv.slice(2));
const zk = await startLocalZooKeeper({});
const sessions: ZkSession[] = [];
const session = async () => {
  const s = await ZkSession.connect({ servers: zk.connectString, sessionTimeoutMs: 10_000 });
  sessions.push(s);
  return s;
};
const agentInfo = (id: string, i: number) => ({
  id: { value: id }, hostname: `agent-${String(i).padStart(5, '0')}`, port: 5051,
  resources: ['cpus', 'mem', 'disk'].map((name, k) => ({ name, type: 'SCALAR', scalar: { value: [16, 65536, 100000][k] }, role: '*' })),
  attributes: [{ name: 'rack', type: 'TEXT', text: { value: `r${i % 10}` } }],
}) as unknown as AgentInfoOut;
const task = (i: number, k: number): RegistryTask => ({ framework_id: `fw-${k % 10}`, task_id: `scale-${i}-${k}`, name: `task ${k}`, resources: 'cpus:0.1;mem:32' });

try {
  for (let round = 1; round <= flags.rounds; round++) {
    const path = `/round-${round}`;
    const leaderSession = await session();
    await leaderSession.mkdirp(path);
    const fence = await leaderSession.createEphemeralSequential(`${path}/json.info_`, Buffer.from('{}'));
    const registry = new Registry(new ZkRegistryStore(leaderSession, path, () => fence));
    await registry.recover();
    const standby = new ZkRegistryStore(await session(), path, () => null);
    const follower = standby.follow();
    await Promise.all(Array.from({ length: flags.agents }, (_, i) => registry.admitAgent(`a${i}`, agentInfo(`a${i}`, i), 1, '127.0.0.1')));
    await Promise.all(Array.from({ length: flags.agents }, (_, i) => registry.addTasks(`a${i}`, [0, 1, 2, 3].map((k) => task(i, k)))));
    // As after a SIGKILL, where the election waits a session timeout: the standby has applied every entry.
    const last = entryNumbers(await leaderSession.children(`${path}/registry/log`)).at(-1);
    while (follower.applied !== last) await new Promise((r) => setTimeout(r, 50));
    leaderSession.close();
    const time = async (store: ZkRegistryStore) => {
      const started = performance.now();
      const docs = await store.load();
      return { ms: performance.now() - started, docs: docs.size };
    };
    const warm = await time(standby);
    const cold = await time(new ZkRegistryStore(await session(), path, () => null));
    console.log(`round ${round}: ${flags.agents} agents: warm read ${warm.ms.toFixed(0)} ms (${warm.docs} docs), cold read ${cold.ms.toFixed(0)} ms (${cold.docs} docs); load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  }
} finally {
  for (const s of sessions) s.close();
  await zk.stop();
}

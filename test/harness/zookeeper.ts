// A real ZooKeeper server for tests: the one `mesos-ts local --masters N`
// runs (common/zk/local-server.ts), Debian's zookeeper package standalone on
// a free loopback port with a short tickTime so sessions can expire in about
// a second.
import { afterAll, beforeAll } from 'vitest';
import { startLocalZooKeeper, type LocalZooKeeper } from '../../common/zk/local-server.js';
import { ZkSession } from '../../common/zk/session.js';

export { freePort } from '../../common/zk/local-server.js';

export type TestZooKeeper = LocalZooKeeper;

export function startZooKeeper(opts: { tickTimeMs?: number } = {}): Promise<TestZooKeeper> {
  return startLocalZooKeeper(opts);
}

/**
 * One ZooKeeper server for a test file: started before its tests, stopped
 * after them, the sessions the tests opened through `session()` closed
 * first. Call it at the top of the file.
 */
export function zooKeeperForFile(sessionTimeoutMs: number): { readonly server: () => TestZooKeeper; readonly session: () => Promise<ZkSession> } {
  let zk: TestZooKeeper | undefined;
  const sessions: ZkSession[] = [];
  beforeAll(async () => {
    zk = await startZooKeeper();
  }, 60_000);
  afterAll(async () => {
    for (const s of sessions) if (s.active) s.close();
    await zk?.stop();
  });
  const server = () => {
    if (!zk) throw new Error('ZooKeeper is not started yet (zooKeeperForFile starts it in beforeAll)');
    return zk;
  };
  return {
    server,
    session: async () => {
      const s = await ZkSession.connect({ servers: server().connectString, sessionTimeoutMs });
      sessions.push(s);
      return s;
    },
  };
}

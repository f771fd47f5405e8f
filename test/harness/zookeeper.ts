// A real ZooKeeper server for tests: the one `mesos-ts local --masters N`
// runs (common/zk/local-server.ts), Debian's zookeeper package standalone on
// a free loopback port with a short tickTime so sessions can expire in about
// a second.
import { startLocalZooKeeper, type LocalZooKeeper } from '../../common/zk/local-server.js';

export { freePort } from '../../common/zk/local-server.js';

export type TestZooKeeper = LocalZooKeeper;

export function startZooKeeper(opts: { tickTimeMs?: number } = {}): Promise<TestZooKeeper> {
  return startLocalZooKeeper(opts);
}

// Where the CLI finds the master: `--master host:port` is the master's HTTP
// address; `--master zk://host:port/path` asks ZooKeeper which master leads
// and uses its HTTP address. Shared by the commands that read the master
// (logs, state, agents, frameworks, tasks).
import { Unavailable } from '../common/errors.js';
import { checkMasterFlag, parseZkUrl } from '../common/zk/url.js';
import { redactText } from '../common/log/redact.js';

export const MASTER_FLAG = {
  type: 'string',
  default: '127.0.0.1:5050',
  help: "the master's HTTP address host:port, or zk://host:port/path to find the leader",
} as const;

/** The leading master's HTTP host:port; InvalidArgument for a malformed --master, Unavailable when no master leads. */
export async function masterAddress(master: string): Promise<string> {
  checkMasterFlag(master);
  if (!master.startsWith('zk://')) return master;
  const { servers, path, auth } = parseZkUrl(master);
  // Only zk:// needs the ZooKeeper client; `--help` and host:port do without loading it.
  const [{ ZkSession }, { LeaderDetector }] = await Promise.all([import('../common/zk/session.js'), import('../common/zk/detector.js')]);
  const session = await ZkSession.connect({ servers, sessionTimeoutMs: 10_000, ...(auth ? { auth } : {}) });
  try {
    const leader = await new LeaderDetector(session, path).start();
    if (!leader) throw new Unavailable(`no leading master in ${redactText(master)}`);
    return leader.http;
  } finally {
    session.close();
  }
}

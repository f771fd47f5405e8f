// A master's part in a replicated setup (--zk): contend, act only while
// leading, and stop for good once leadership is lost. Standby masters
// answer calls with the leader's address.
import { parseZkUrl } from '../../common/zk/url.js';
import { ZkSession } from '../../common/zk/session.js';
import { MasterContender } from './contender.js';

export interface Election {
  leading(): boolean;
  /** The leader's HTTP host:port, for redirects; null when unknown or when this master leads. */
  leaderHttp(): string | null;
  /** Why this master does not act, naming the leader when known. */
  notLeading(): string;
  withdraw(): void;
}

export async function startElection(
  zkUrl: string,
  sessionTimeoutSeconds: number,
  info: Record<string, unknown>,
  log: (line: string) => void,
  on: { elected: () => void; deposed: (why: string) => void },
): Promise<Election> {
  const { servers, path } = parseZkUrl(zkUrl);
  const session = await ZkSession.connect({ servers, sessionTimeoutMs: sessionTimeoutSeconds * 1000 });
  const contender = new MasterContender(session, path, info, log);
  let everLed = false;
  let over: string | null = null;
  contender.onChange((l) => {
    if (over) return;
    if (l.leading) {
      everLed = true;
      return on.elected();
    }
    if (everLed || l.why) {
      over = l.why ?? 'another master leads now';
      on.deposed(over);
    }
  });
  const first = await contender.contend();
  if (first.leading && !everLed) {
    everLed = true;
    on.elected();
  }
  return {
    leading: () => !over && contender.leadership.leading,
    leaderHttp: () => {
      const l = contender.leadership;
      return !l.leading && l.leader ? l.leader.http : null;
    },
    notLeading: () => {
      if (over) return `this master no longer leads (${over})`;
      const l = contender.leadership;
      if (l.leading) return 'this master leads';
      return l.leader ? `not the leader; the leading master is ${l.leader.grpc} (HTTP ${l.leader.http})` : 'not the leader; no leader is elected yet';
    },
    withdraw: () => contender.withdraw(),
  };
}

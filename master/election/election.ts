// A master's part in a replicated setup (--zk): contend, act only while
// leading, and stop for good once leadership is lost. Standby masters
// answer calls with the leader's address.
import { parseZkUrl } from '../../common/zk/url.js';
import { ZkSession } from '../../common/zk/session.js';
import { MasterContender } from './contender.js';
import { ZkRegistryStore } from '../registry/zk-store.js';
import type { Logger } from '../../common/log/logger.js';

export interface Election {
  /** Enters the contest; `elected` may be called before this resolves. */
  contend(on: { elected: () => void; deposed: (why: string) => void }): Promise<void>;
  /** Leading, and sure of it: the ZooKeeper session is fresh (see ZkSession.fresh). */
  leading(): boolean;
  /** This candidacy's sequence number (the znode's suffix): each leader's term, increasing from one leader to the next. */
  term(): number | null;
  /** The leader's HTTP host:port, for redirects; null when unknown or when this master leads. */
  leaderHttp(): string | null;
  /** Why this master does not act, naming the leader when known. */
  notLeading(): string;
  withdraw(): void;
  /** The registry's home: the same session and path, fenced by this candidacy's znode. */
  registryStore(logger: Logger): ZkRegistryStore;
}

/** Connects to ZooKeeper (a clear error if it cannot) without contending yet. */
export async function connectElection(
  zkUrl: string,
  sessionTimeoutSeconds: number,
  info: Record<string, unknown>,
  logger: Logger,
): Promise<Election> {
  const { servers, path, auth } = parseZkUrl(zkUrl);
  const session = await ZkSession.connect({ servers, sessionTimeoutMs: sessionTimeoutSeconds * 1000, endOnStall: true, ...(auth ? { auth } : {}) });
  const contender = new MasterContender(session, path, info, logger);
  let everLed = false;
  let over: string | null = null;
  return {
    async contend(on) {
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
    },
    leading: () => !over && contender.leadership.leading && session.fresh,
    term: () => {
      const seq = /(\d+)$/.exec(contender.candidacy ?? '');
      return seq ? Number(seq[1]) : null;
    },
    leaderHttp: () => {
      const l = contender.leadership;
      return !l.leading && l.leader ? l.leader.http : null;
    },
    notLeading: () => {
      if (over) return `this master no longer leads (${over})`;
      const l = contender.leadership;
      if (l.leading && !session.fresh) {
        return `this master leads but has had no answer from ZooKeeper for ${session.silenceMs} ms; it acts again once it has one, and stops for good if its session expires`;
      }
      if (l.leading) return 'this master leads';
      return l.leader ? `not the leader; the leading master is ${l.leader.grpc} (HTTP ${l.leader.http})` : 'not the leader; no leader is elected yet';
    },
    withdraw: () => contender.withdraw(),
    registryStore: (storeLogger) => new ZkRegistryStore(session, path, () => contender.candidacy, storeLogger),
  };
}

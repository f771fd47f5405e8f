// A master's part in a replicated setup (--zk): contend, act only while
// leading, and stop for good once leadership is lost. Standby masters
// answer calls with the leader's address, and contend again when their
// candidacy is lost.
import { parseZkUrl } from '../../common/zk/url.js';
import { SessionEnded, ZkSession } from '../../common/zk/session.js';
import { MasterContender } from './contender.js';
import { ZkRegistryStore } from '../registry/zk-store.js';
import type { Logger } from '../../common/log/logger.js';
import { backoffDelay } from '../../common/backoff.js';
import { errorMessage } from '../../common/errors.js';

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
  /** The registry's home: the same session and path, fenced by this candidacy's znode; told whether the leader keeps the registry log. */
  registryStore(logger: Logger): ZkRegistryStore;
}

/** Waits between attempts at a new candidacy (a new session), while ZooKeeper does not answer. */
const RECONTEND_BACKOFF = { initialDelayMs: 500, maxDelayMs: 5000 } as const;

/**
 * Connects to ZooKeeper (a clear error if it cannot) without contending yet.
 *
 * A master that has led stops for good once it loses its candidacy (another
 * may lead by then). One that has not (its first candidacy failed half-way,
 * or, standing by, its session ended) contends again on a new session, as a
 * Mesos master does ("Lost candidacy as a follower... Contend again").
 */
export async function connectElection(
  zkUrl: string,
  sessionTimeoutSeconds: number,
  info: Record<string, unknown>,
  logger: Logger,
): Promise<Election> {
  const { servers, path, auth } = parseZkUrl(zkUrl);
  const connect = () => ZkSession.connect({ servers, sessionTimeoutMs: sessionTimeoutSeconds * 1000, endOnStall: true, ...(auth ? { auth } : {}) });
  let session = await connect();
  let contender = new MasterContender(session, path, info, logger);
  let everLed = false;
  let over: string | null = null;
  let withdrawn = false;
  let on: { elected: () => void; deposed: (why: string) => void } = { elected: () => {}, deposed: () => {} };
  let store: ZkRegistryStore | null = null;

  /** Follows `c`, the current candidacy: a later one replaces it and its changes no longer count. */
  const follow = (c: MasterContender) => c.onChange((l) => {
    if (over || c !== contender) return;
    // A standby's copy of the registry holds only while every leader logs its changes (a master of an earlier version does not).
    if (!l.leading && l.leader) store?.leaderWithoutLog(l.leader.registryLog ? null : `the leading master ${l.leader.id} keeps no registry log`);
    if (l.leading) {
      everLed = true;
      return on.elected();
    }
    if (everLed) {
      over = l.why ?? 'another master leads now';
      on.deposed(over);
    } else if (l.why) {
      logger.warn(`lost the candidacy as a standby (${l.why}); contending again on a new ZooKeeper session`);
      void contendAgain();
    }
  });
  /** One candidacy on the current session; elected, if it leads at once. */
  const contendOnce = async () => {
    const [c, s] = [contender, session];
    follow(c);
    // A session that ends half-way fails this candidacy, even where contend() would finish (a detector's listing that fails is only warned of).
    const ended = new Promise<never>((_, reject) => s.onEnd((why) => reject(new SessionEnded(why))));
    ended.catch(() => {});
    const first = await Promise.race([c.contend(), ended]);
    if (c === contender && first.leading && !everLed && !over) {
      everLed = true;
      on.elected();
    }
  };
  /** A new session and candidacy, tried until one is in place (or this master withdraws); one loop at a time. */
  let again: Promise<void> | null = null;
  const contendAgain = (): Promise<void> => {
    again ??= (async () => {
      for (let attempt = 0; !withdrawn && !everLed; attempt++) {
        try {
          const old = contender;
          old.withdraw(); // Its session ends: its own change no longer counts (it is no longer `contender` once replaced).
          session = await connect();
          contender = new MasterContender(session, path, info, logger);
          if (withdrawn) return contender.withdraw();
          return await contendOnce();
        } catch (err) {
          if (everLed || withdrawn) return;
          const wait = backoffDelay(attempt, RECONTEND_BACKOFF);
          logger.warn(`cannot contend yet (${errorMessage(err)}); trying again on a new ZooKeeper session in ${wait} ms`);
          await new Promise((resolve) => setTimeout(resolve, wait).unref());
        }
      }
    })().finally(() => (again = null));
    return again;
  };
  return {
    async contend(handlers) {
      on = handlers;
      try {
        await contendOnce();
      } catch (err) {
        if (everLed || withdrawn) throw err;
        // Nothing was acted on yet: a first candidacy whose session failed half-way is tried again.
        logger.warn(`the first candidacy failed (${errorMessage(err)}); contending again on a new ZooKeeper session`);
        await contendAgain();
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
    withdraw: () => {
      withdrawn = true;
      contender.withdraw();
    },
    // The session of the candidacy in place when the registry is used: only a leader writes, and a leader's never changes.
    registryStore: (storeLogger) => (store = new ZkRegistryStore(() => session, path, () => contender.candidacy, storeLogger)),
  };
}

// Who leads a `mesos-ts local` cluster of several masters, as ZooKeeper
// names it (as agents and schedulers see it): the masters in-process on
// loopback (local-masters.ts) or as processes on hosts (local-hosts.ts).
// It says who leads whenever that changes; after a kill (killed()), how long
// the take-over took, then reads the new leader's /master/state, as an
// operator would, until every agent and the demo came back.
import { setTimeout as sleep } from 'node:timers/promises';
import { ZkSession } from '../common/zk/session.js';
import { LeaderDetector, type LeaderInfo } from '../common/zk/detector.js';
import { tlsFetch } from '../common/tls-fetch.js';
import type { Tls } from '../common/tls.js';

export const ZK_PATH = '/mesos';
/** Short, as in docker-compose.yml: a master cut off from ZooKeeper steps down within 2 s. */
export const ZK_SESSION_TIMEOUT_SECONDS = 2;
const TAKE_OVER_WATCH_MS = 20_000;
const TAKE_OVER_POLL_MS = 200;

export interface WatchedMaster {
  /** master-1, master-2, ... */
  readonly name: string;
  /** host:port of its HTTP API, as its MasterInfo in ZooKeeper gives it. */
  readonly httpAddress: string;
  readonly scheme: 'http' | 'https';
  /** Set once it stopped or was killed: it no longer stands by. */
  killed: boolean;
}

export interface LeaderWatchOptions<M extends WatchedMaster> {
  /** ZooKeeper's connect string. */
  readonly servers: string;
  readonly masters: readonly M[];
  /** How many agents register: after a failover, the new leader is watched until they all re-registered. */
  readonly agents: number;
  readonly say: (line: string) => void;
  /** What /master/state is read with (--ssl). */
  readonly tls: Tls | null;
  /** Added to "master-N leads" (e.g. " on host m1"). */
  readonly where?: (master: M) => string;
}

export class LeaderWatch<M extends WatchedMaster> {
  private leaderName: string | null = null;
  private killedAt: number | null = null;
  private stopped = false;
  /** Set by settle(): the take-over watch reads once more and ends. */
  private settling = false;
  private takeOver: Promise<void> | null = null;
  private readonly waiters: (() => void)[] = [];

  private constructor(private readonly session: ZkSession, private readonly options: LeaderWatchOptions<M>) {}

  /** Follows the leader; resolves once one leads, or rejects after `timeoutMs`. */
  static async start<M extends WatchedMaster>(options: LeaderWatchOptions<M>, timeoutMs = 60_000): Promise<LeaderWatch<M>> {
    const session = await ZkSession.connect({ servers: options.servers, sessionTimeoutMs: ZK_SESSION_TIMEOUT_SECONDS * 1000 });
    const watch = new LeaderWatch(session, options);
    try {
      const detector = new LeaderDetector(session, ZK_PATH);
      const elected = new Promise<boolean>((resolve) => watch.waiters.push(() => resolve(true)));
      detector.onChange((info) => watch.changed(info));
      watch.changed(await detector.start());
      if (!(await Promise.race([elected, sleep(timeoutMs, false, { ref: false })]))) throw new Error(`no master leads in zk://${options.servers}${ZK_PATH} after ${timeoutMs} ms`);
      return watch;
    } catch (err) {
      watch.stop();
      throw err;
    }
  }

  /** The leading master, if one is known. */
  leader(): M | null {
    return this.options.masters.find((m) => m.name === this.leaderName) ?? null;
  }

  /** `master` was just killed: the next leader is reported with the time since. */
  killed(master: M): void {
    master.killed = true;
    this.killedAt = Date.now();
  }

  /**
   * The demo is over: a take-over still being watched reads the new leader's state once more, says what it
   * had, and ends. Resolves once it did (at once when none is watched), so that it is said before the cluster stops.
   */
  settle(): Promise<void> {
    this.settling = true;
    return this.takeOver ?? Promise.resolve();
  }

  stop(): void {
    this.stopped = true;
    this.session.close();
  }

  private changed(info: LeaderInfo | null): void {
    const master = info ? this.options.masters.find((m) => m.httpAddress === info.http) : undefined;
    if (!master || master.name === this.leaderName) return;
    this.leaderName = master.name;
    const after = this.killedAt !== null ? ` (${((Date.now() - this.killedAt) / 1000).toFixed(1)} s after the kill)` : '';
    const http = `${master.scheme}://${master.httpAddress}`;
    const standbys = this.options.masters.filter((m) => m !== master && !m.killed).map((m) => m.name);
    const standing = standbys.length ? `; ${standbys.join(' and ')} stand${standbys.length === 1 ? 's' : ''} by` : '';
    this.options.say(`${master.name}${this.options.where?.(master) ?? ''} leads${after}: web UI at ${http}/, state at ${http}/master/state${standing}`);
    for (const resolve of this.waiters.splice(0)) resolve();
    if (this.killedAt !== null) this.takeOver = this.watchTakeOver(master, this.killedAt);
  }

  /** After a failover: reads the new leader's /master/state until every agent and the demo came back. */
  private async watchTakeOver(master: M, killedAt: number): Promise<void> {
    const deadline = Date.now() + TAKE_OVER_WATCH_MS;
    let last = '';
    for (;;) {
      // A read begun after settle() was asked for is the last one.
      const lastRead = this.settling;
      const state = await tlsFetch(this.options.tls)(`${master.scheme}://${master.httpAddress}/master/state`, { signal: AbortSignal.timeout(2000) })
        .then((res) => (res.ok ? (res.json() as Promise<MasterState>) : null))
        .catch(() => null);
      const agents = state?.activated_slaves ?? 0;
      const frameworks = (state?.frameworks ?? []).filter((f) => f.active).length;
      const seen = `${agents} of ${this.options.agents} agents re-registered, ${frameworks} framework${frameworks === 1 ? '' : 's'} re-subscribed`;
      if (seen !== last && (agents > 0 || frameworks > 0)) this.options.say(`${master.name}: ${seen} (${((Date.now() - killedAt) / 1000).toFixed(1)} s after the kill)`);
      last = seen;
      if ((agents >= this.options.agents && frameworks > 0) || lastRead || this.stopped || master.killed || Date.now() >= deadline) return;
      await sleep(TAKE_OVER_POLL_MS);
    }
  }
}

/** The part of Mesos's /master/state read here. */
interface MasterState {
  readonly activated_slaves?: number;
  readonly frameworks?: readonly { readonly active?: boolean }[];
}

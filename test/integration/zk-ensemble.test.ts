// A real 3-member ZooKeeper ensemble, one member per simulated host
// (test/harness/zk-ensemble.ts), and our ZooKeeper session over its
// host list: it keeps its session across the loss of the member it talks to,
// whether that member dies (the connection closes) or goes silent (frozen,
// the connection stays open and says nothing: only our probes notice), and
// the ensemble serves with one member down and not with two.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HostNetwork } from '../harness/hosts.js';
import { startZooKeeperEnsemble, type EnsembleMember, type ZooKeeperEnsemble } from '../harness/zk-ensemble.js';
import { pause, resume } from '../harness/faults.js';
import { waitUntil } from '../harness/wait-until.js';
import { ZkSession } from '../../common/zk/session.js';

// Long enough that, if the member frozen below is the ensemble's leader, a new one is elected within it.
const SESSION_MS = 8000;

describe('a 3-member ZooKeeper ensemble on three hosts', () => {
  let net: HostNetwork;
  let zk: ZooKeeperEnsemble;
  let session: ZkSession;
  let ended = '';

  beforeAll(async () => {
    net = await HostNetwork.create(['zk1', 'zk2', 'zk3']);
    zk = await startZooKeeperEnsemble({ hosts: net.hosts() });
    session = await ZkSession.connect({ servers: zk.connectString, sessionTimeoutMs: SESSION_MS });
    session.onEnd((why) => (ended = why));
    await session.mkdirp('/ensemble-test');
  }, 120_000);

  afterAll(async () => {
    session?.close();
    await zk?.stop();
    await net?.destroy();
  });

  const memberOf = (s: ZkSession): EnsembleMember => {
    const m = zk.members.find((x) => s.server === `${x.address}:${x.clientPort}`);
    if (!m) throw new Error(`the session is connected to ${s.server}, no member of ${zk.connectString}`);
    return m;
  };
  // A write in flight when the ensemble re-elects its leader fails with CONNECTION_LOSS, as ZooKeeper says: again, then.
  const write = async (name: string) => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await session.commit([{ op: 'create', path: `/ensemble-test/${name}`, data: Buffer.from(name) }]);
      } catch (err) {
        if (String(err).includes('NODE_EXISTS')) return; // An earlier attempt went through.
        if (attempt >= 20 || !String(err).includes('CONNECTION_LOSS')) throw err;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  };

  it('elects one leader among the three members on their hosts', async () => {
    await zk.waitServing(30_000, true);
    const modes = await Promise.all(zk.members.map((m) => m.mode()));
    expect(modes.filter((m) => m === 'leader')).toHaveLength(1);
    expect(modes.filter((m) => m === 'follower')).toHaveLength(2);
    expect(zk.url()).toBe(`zk://${zk.members.map((m) => `${m.address}:2181`).join(',')}/mesos`);
  });

  it('keeps the session when the member it talks to is killed: the client moves to another member', async () => {
    const id = session.sessionId;
    const first = memberOf(session);
    await first.down();
    await waitUntil(() => session.server !== null, 30_000, 'the session to reconnect to another member');
    expect(memberOf(session)).not.toBe(first);
    await write('after-kill');
    expect(session.active).toBe(true);
    expect(session.sessionId).toBe(id);
    await first.up();
    await zk.waitServing();
  });

  it('keeps the session when the member it talks to goes silent (frozen): the probes notice and move on', async () => {
    const id = session.sessionId;
    const silent = memberOf(session);
    pause(silent.pid()!);
    try {
      // The connection stays open; without our probes the client would wait on it for minutes.
      await waitUntil(() => {
        if (!session.active) throw new Error(`the session ended: ${ended}`);
        return session.server !== null && memberOf(session) !== silent;
      }, 30_000, 'the session to leave the frozen member');
      await write('after-freeze');
    } finally {
      resume(silent.pid()!);
    }
    expect(session.active).toBe(true);
    expect(session.sessionId).toBe(id);
    expect((await session.data('/ensemble-test/after-kill'))?.toString()).toBe('after-kill');
    await zk.waitServing();
  });

  it('serves with one member down and stops serving with two; back with the quorum, nothing is lost', async () => {
    await waitUntil(() => session.server !== null, 30_000, 'the session to be connected');
    const [m1, m2] = zk.members.filter((m) => m !== memberOf(session));
    await m1!.down();
    await write('one-down');
    await m2!.down();
    // No quorum: the last member stops serving; our session cannot stay fresh.
    await waitUntil(async () => (await zk.members[0]!.mode()) === null && (await zk.members[1]!.mode()) === null && (await zk.members[2]!.mode()) === null,
      30_000, 'the remaining member to stop serving');
    await waitUntil(() => !session.fresh, 30_000, 'the session to stop being fresh');
    await Promise.all([m1!.up(), m2!.up()]);
    await zk.waitServing();
    const again = await ZkSession.connect({ servers: zk.connectString, sessionTimeoutMs: SESSION_MS });
    try {
      for (const name of ['after-kill', 'after-freeze', 'one-down']) expect((await again.data(`/ensemble-test/${name}`))?.toString()).toBe(name);
    } finally {
      again.close();
    }
  });
});

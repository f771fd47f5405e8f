// Leader election and detection against a real ZooKeeper server.
import { describe, expect, it } from 'vitest';
import { zooKeeperForFile } from '../harness/zookeeper.js';
import { ZkSession } from '../../common/zk/session.js';
import { LeaderDetector } from '../../common/zk/detector.js';
import { MasterContender } from '../../master/election/contender.js';
import { connectElection } from '../../master/election/election.js';
import { createLogger } from '../../common/log/logger.js';
import { waitUntil } from '../harness/wait-until.js';

const { server: zk, session } = zooKeeperForFile(2000);

const masterInfo = (n: number) => ({
  id: `master-${n}`, hostname: '127.0.0.1', ip: 16777343, port: 5050 + n, pid: `master@127.0.0.1:${5050 + n}`, version: '0.1.0',
  address: { hostname: '127.0.0.1', ip: '127.0.0.1', port: 5050 + n }, grpc_address: `127.0.0.1:${6060 + n}`,
});

describe('leader election in ZooKeeper', () => {
  it('elects exactly one of three masters, and a detector finds it', async () => {
    const path = '/mesos-three';
    const contenders = await Promise.all([1, 2, 3].map(async (n) => new MasterContender(await session(), path, masterInfo(n))));
    for (const c of contenders) await c.contend();
    await waitUntil(() => contenders.filter((c) => c.leadership.leading).length === 1, 5000, 'one leader');
    expect(contenders[0]!.leadership.leading).toBe(true);

    const detector = new LeaderDetector(await session(), path);
    const leader = await detector.start();
    expect(leader).toMatchObject({ id: 'master-1', http: '127.0.0.1:5051', grpc: '127.0.0.1:6061' });
    expect(leader!.znode).toMatch(/^\/mesos-three\/json\.info_\d{10}$/);

    // The leader goes away: the next in line leads, the detector follows.
    const changes: (string | null)[] = [];
    detector.onChange((l) => changes.push(l?.id ?? null));
    contenders[0]!.withdraw();
    await waitUntil(() => contenders[1]!.leadership.leading, 5000, 'the second master to lead');
    expect(contenders[2]!.leadership.leading).toBe(false);
    expect(contenders[0]!.leadership.leading).toBe(false);
    await waitUntil(() => changes.includes('master-2'), 5000, 'the detector to follow');
  });

  it('skips garbage in the election path, with a warning', async () => {
    const path = '/mesos-garbage';
    const writer = await session();
    await writer.mkdirp(path);
    await writer.createEphemeralSequential(`${path}/json.info_`, Buffer.from('{not json'));
    await writer.createEphemeralSequential(`${path}/json.info_`, Buffer.from(JSON.stringify({ id: 'x' })));
    const contender = new MasterContender(await session(), path, masterInfo(7));
    expect((await contender.contend()).leading).toBe(true);
    const warnings: string[] = [];
    const detector = new LeaderDetector(await session(), path, (line) => warnings.push(line));
    expect((await detector.start())?.id).toBe('master-7');
    expect(warnings).toEqual([
      expect.stringMatching(/^skipping \/mesos-garbage\/json\.info_\d{10}: not JSON$/),
      expect.stringMatching(/^skipping \/mesos-garbage\/json\.info_\d{10}: missing id, address\.port or grpc_address$/),
    ]);
  });

  it("a master's first candidacy whose ZooKeeper session ends half-way (ZooKeeper stopped) contends again on a new session and leads", async () => {
    const path = '/mesos-first-candidacy';
    const lines: string[] = [];
    const election = await connectElection(`zk://${zk().connectString}${path}`, 2, masterInfo(8), createLogger({ component: 'master', sink: (l) => lines.push(l) }));
    const events: string[] = [];
    const pid = zk().pid()!;
    process.kill(pid, 'SIGSTOP');
    let stopped = true;
    try {
      const contending = election.contend({ elected: () => events.push('elected'), deposed: (why) => events.push(`deposed: ${why}`) });
      contending.catch(() => {}); // Awaited below; a rejection before then must not count as unhandled.
      // Silent for two thirds of the 2 s timeout, the connection is dropped; with no new one for 2 s more, the session ends.
      await new Promise((resolve) => setTimeout(resolve, 5000));
      process.kill(pid, 'SIGCONT');
      stopped = false;
      await Promise.race([contending, new Promise((_, reject) => setTimeout(() => reject(new Error('the candidacy never settled')), 30_000))]);
    } finally {
      if (stopped) process.kill(pid, 'SIGCONT');
      // A later test must not find it contending.
      if (!events.includes('elected')) election.withdraw();
    }
    expect(events).toEqual(['elected']);
    expect(lines.some((l) => l.includes('the first candidacy failed'))).toBe(true);
    expect(election.leading()).toBe(true);
    // One candidacy under the path: this master's, on its new session.
    const names = (await (await session()).children(path)).filter((n) => n.startsWith('json.info_'));
    expect(names).toHaveLength(1);
    expect(election.term()).toBe(Number(names[0]!.slice('json.info_'.length)));
    election.withdraw();
  }, 60_000);

  it('a standby whose ZooKeeper session ends contends again on a new session, and leads once the leader goes', async () => {
    const path = '/mesos-standby-again';
    const leader = new MasterContender(await session(), path, masterInfo(1));
    expect((await leader.contend()).leading).toBe(true);
    const lines: string[] = [];
    const election = await connectElection(`zk://${zk().connectString}${path}`, 2, masterInfo(2), createLogger({ component: 'master', sink: (l) => lines.push(l) }));
    const events: string[] = [];
    await election.contend({ elected: () => events.push('elected'), deposed: (why) => events.push(`deposed: ${why}`) });
    expect(election.leading()).toBe(false);
    const firstTerm = election.term();
    // ZooKeeper stopped past the session timeout: the standby's session ends (the leader's too, on its side).
    const pid = zk().pid()!;
    process.kill(pid, 'SIGSTOP');
    try {
      await new Promise((resolve) => setTimeout(resolve, 5000));
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await waitUntil(() => events.length > 0, 30_000, 'the standby, contending again, to lead once the old leader is gone');
    expect(events).toEqual(['elected']);
    expect(lines.some((l) => l.includes('lost the candidacy as a standby'))).toBe(true);
    expect(election.term()).toBeGreaterThan(firstTerm!);
    election.withdraw();
  }, 90_000);

  it('reports an unreachable ZooKeeper clearly instead of hanging', async () => {
    const t0 = Date.now();
    await expect(ZkSession.connect({ servers: '127.0.0.1:1', sessionTimeoutMs: 2000, connectTimeoutMs: 1500 })).rejects.toThrow(
      'cannot reach ZooKeeper at 127.0.0.1:1 within 1500 ms',
    );
    expect(Date.now() - t0).toBeLessThan(5000);
  });
});

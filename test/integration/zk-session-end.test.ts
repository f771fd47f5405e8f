// Requests on a ZooKeeper session that ends settle, against a real server.
// The client library never answers a request it queued while disconnected
// once the session ends (closing it drops its queue): a standby master's
// registry read waited on one for good after ZooKeeper lost its quorum.
// ZkSession rejects such requests when the session ends, and every request
// made afterwards at once, naming why the session ended.
import { describe, expect, it } from 'vitest';
import { zooKeeperForFile } from '../harness/zookeeper.js';
import { waitUntil } from '../harness/wait-until.js';
import type { ZkSession } from '../../common/zk/session.js';

const TIMEOUT_MS = 2000;
const { server: zk, session } = zooKeeperForFile(TIMEOUT_MS);

/** How `p` settled, or 'pending' if it had not within `ms` (a request left waiting on a session that ended). */
async function outcome(p: Promise<unknown>, ms: number): Promise<{ resolved: unknown } | { rejected: string } | 'pending'> {
  let timer: NodeJS.Timeout | undefined;
  const pending = new Promise<'pending'>((resolve) => (timer = setTimeout(() => resolve('pending'), ms)));
  try {
    return await Promise.race([p.then((resolved) => ({ resolved }), (err: unknown) => ({ rejected: String(err) })), pending]);
  } finally {
    clearTimeout(timer);
  }
}

/** Whether `p` has settled before any I/O could be handled (it failed without a round trip). */
async function settledAtOnce(p: Promise<unknown>): Promise<{ rejected: string } | 'resolved' | 'pending'> {
  const turn = new Promise<'pending'>((resolve) => setImmediate(() => resolve('pending')));
  return Promise.race([p.then(() => 'resolved' as const, (err: unknown) => ({ rejected: String(err) })), turn]);
}

/** One of each request ZkSession offers, on `s`. */
function everyRequest(s: ZkSession, path: string): Record<string, Promise<unknown>> {
  const requests = {
    mkdirp: s.mkdirp(`${path}/dir`),
    createEphemeralSequential: s.createEphemeralSequential(`${path}/node_`, Buffer.from('x')),
    children: s.children(path),
    childrenWatched: s.children(path, () => {}),
    data: s.data(path),
    commit: s.commit([{ op: 'create', path: `${path}/made`, data: Buffer.from('x') }]),
  };
  for (const r of Object.values(requests)) r.catch(() => {}); // Each is awaited in turn; one failing first is not unhandled.
  return requests;
}

describe('a ZooKeeper session that ends', () => {
  it('fails every request made after it was closed at once, saying it was closed', async () => {
    const s = await session();
    await s.mkdirp('/closed');
    s.close();
    const requests = everyRequest(s, '/closed');
    for (const [name, request] of Object.entries(requests)) {
      expect({ name, outcome: await settledAtOnce(request) }).toEqual({ name, outcome: { rejected: 'Unavailable: the ZooKeeper session ended (session closed)' } });
    }
    const why: string[] = [];
    s.onEnd((w) => why.push(w));
    expect(why).toEqual(['session closed']);
  });

  it('fails a request queued while ZooKeeper was unreachable when the session ends, and every later one at once', async () => {
    const s = await session();
    await s.mkdirp('/stopped');
    const ended = new Promise<string>((resolve) => s.onEnd(resolve));
    const pid = zk().pid()!;
    process.kill(pid, 'SIGSTOP');
    try {
      // Sent on the connection that falls silent; the client library retries it once that connection is dropped.
      const sent = s.data('/stopped');
      sent.catch(() => {});
      // Silent for two thirds of the timeout, the connection is dropped; the next requests wait in the client's queue.
      await waitUntil(() => s.server === null, 3 * TIMEOUT_MS, 'the silent connection to be dropped');
      const queued = everyRequest(s, '/stopped');
      // The session ends a timeout after the drop; the margin is for a loaded machine, not a hang.
      const why = await Promise.race([ended, new Promise<string>((resolve) => setTimeout(() => resolve('not ended'), 3 * TIMEOUT_MS))]);
      expect(why).toBe(`no contact with ZooKeeper for ${TIMEOUT_MS} ms`);
      const error = `Unavailable: the ZooKeeper session ended (${why})`;
      expect(await outcome(sent, 1000)).toEqual({ rejected: error });
      for (const [name, request] of Object.entries(queued)) {
        expect({ name, outcome: await outcome(request, 1000) }).toEqual({ name, outcome: { rejected: error } });
      }
      expect(await settledAtOnce(s.children('/stopped'))).toEqual({ rejected: error });
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    // The server still serves a new session.
    expect(await (await session()).children('/stopped')).toEqual([]);
  }, 30_000);

  it('keeps answering requests on a session that has not ended', async () => {
    const s = await session();
    await s.mkdirp('/alive/dir');
    const made = await s.createEphemeralSequential('/alive/node_', Buffer.from('x'));
    await s.commit([{ op: 'create', path: '/alive/made', data: Buffer.from('y') }, { op: 'check', path: made }]);
    expect((await s.children('/alive')).sort()).toEqual(['dir', 'made', made.slice('/alive/'.length)].sort());
    expect((await s.data('/alive/made'))?.toString()).toBe('y');
    expect(await s.data('/alive/gone')).toBeNull();
    await expect(s.commit([{ op: 'check', path: '/alive/gone' }])).rejects.toThrow(/NO_NODE/);
    expect(s.active).toBe(true);
  });
});

// ZooKeeper with credentials, against a real ZooKeeper server: masters
// given zk://user:password@... authenticate (digest) and create their znodes
// so that only holders of the same credentials may change them (the leader
// entries stay readable by all, as Mesos leaves them; the registry is not).
// A successor with the credentials takes over; nobody else can write; the
// password shows up in no log line and no endpoint. Garbage in the registry,
// of every kind, is skipped with a warning naming it, and the leader leads.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import zookeeper from 'node-zookeeper-client';
import { startZooKeeper, type TestZooKeeper } from '../harness/zookeeper.js';
import { MasterGroup } from '../harness/master-group.js';
import { waitUntil } from '../harness/wait-until.js';

const PATH = '/mesos-ts-secure';
const PASSWORD = 'n0t-in-any-log';
let zk: TestZooKeeper;
let group: MasterGroup;
const log: string[] = [];

/** A plain ZooKeeper client, with these credentials or none. */
async function client(auth?: string): Promise<zookeeper.Client> {
  const c = zookeeper.createClient(zk.connectString, { sessionTimeout: 4000 });
  if (auth) c.addAuthInfo('digest', Buffer.from(auth));
  await new Promise<void>((resolve) => {
    c.once('connected', () => resolve());
    c.connect();
  });
  return c;
}

/** The error code of a ZooKeeper call, or 'ok'. */
function outcome(run: (done: (err: Error | zookeeper.Exception | null) => void) => void): Promise<string> {
  return new Promise((resolve) => run((err) => resolve(err ? ((err as zookeeper.Exception).getCode?.() === zookeeper.Exception.NO_AUTH ? 'NO_AUTH' : String(err)) : 'ok')));
}

beforeAll(async () => {
  zk = await startZooKeeper();
  group = new MasterGroup(`zk://ops:${PASSWORD}@${zk.connectString}${PATH}`, { zk_session_timeout: 2, allocation_interval: 0.1 }, (line) => log.push(line));
  await group.add();
  await group.add();
  await group.leader();
}, 60_000);

afterAll(async () => {
  await group?.stopAll();
  await zk?.stop();
});

describe('ZooKeeper with credentials', () => {
  it('leader entries are readable by anyone and writable by no one else; the registry is neither', async () => {
    const leader = await group.leader();
    // Something in the registry: an operator's weights.
    const res = await fetch(`http://${leader.httpAddress}/api/v1`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ type: 'UPDATE_WEIGHTS', update_weights: { weight_infos: [{ role: 'r', weight: 2 }] } }),
    });
    expect(res.status).toBe(200);
    const anonymous = await client();
    const stranger = await client(`ops:wrong-${PASSWORD}`);
    try {
      const entries = await new Promise<string[]>((resolve, reject) => anonymous.getChildren(PATH, (err, children) => (err ? reject(err) : resolve(children))));
      const entry = `${PATH}/${entries.find((e) => e.startsWith('json.info_'))}`;
      expect(await outcome((done) => anonymous.getData(entry, done))).toBe('ok');
      expect(await outcome((done) => anonymous.setData(entry, Buffer.from('{}'), -1, done))).toBe('NO_AUTH');
      expect(await outcome((done) => anonymous.remove(entry, -1, done))).toBe('NO_AUTH');
      expect(await outcome((done) => anonymous.create(`${PATH}/json.info_9999999999`, Buffer.from('{}'), done))).toBe('NO_AUTH');
      for (const c of [anonymous, stranger]) {
        expect(await outcome((done) => c.getData(`${PATH}/registry/settings/weights`, done))).toBe('NO_AUTH');
        expect(await outcome((done) => c.setData(`${PATH}/registry/settings/weights`, Buffer.from('{}'), -1, done))).toBe('NO_AUTH');
        expect(await outcome((done) => c.create(`${PATH}/registry/agents/forged`, Buffer.from('{}'), done))).toBe('NO_AUTH');
      }
    } finally {
      anonymous.close();
      stranger.close();
    }
  });

  it('a successor with the credentials takes over and reads the registry; the password is in no log line and no endpoint', async () => {
    const { next } = await group.failOver();
    await waitUntil(async () => {
      const res = await fetch(`http://${next.httpAddress}/master/weights`).catch(() => null);
      return res?.status === 200 && JSON.stringify(await res.json()).includes('"role":"r"');
    }, 15_000, 'the new leader to have the weights');
    const flags = await (await fetch(`http://${next.httpAddress}/master/flags`)).text();
    expect(flags).toContain('zk://ops:[REDACTED]@');
    const state = await (await fetch(`http://${next.httpAddress}/master/state`)).text();
    for (const text of [flags, state, ...log]) expect(text).not.toContain(PASSWORD);
  });

  it('skips a malformed registry entry of each kind with a warning naming it, and leads', async () => {
    const owner = await client(`ops:${PASSWORD}`);
    const write = (path: string, data: string) => outcome((done) => owner.create(`${PATH}/registry/${path}`, Buffer.from(data), done));
    try {
      expect(await write('agents/garbled', '{not json')).toBe('ok');
      expect(await write('frameworks/no-info', '{"registered_time": 1}')).toBe('ok');
      expect(await outcome((done) => owner.setData(`${PATH}/registry/settings/weights`, Buffer.from('[1, 2]'), -1, done))).toBe('ok');
      expect(await write('settings/maintenance', '{"windows": 3}')).toBe('ok');
      expect(await write('settings/quota', '{"quotas": {"r": 7}}')).toBe('ok');
    } finally {
      owner.close();
    }
    await group.add();
    const from = log.length;
    const { next } = await group.failOver();
    await waitUntil(() => next.leading() && next.master.acting, 15_000, 'the next master to lead');
    const warnings = log.slice(from).filter((l) => l.includes('registry: skipping'));
    for (const key of ['agents/garbled', 'frameworks/no-info', 'settings/weights', 'settings/maintenance', 'settings/quota']) {
      expect(warnings.some((w) => w.includes(key)), `a warning naming ${key}`).toBe(true);
    }
    expect((await fetch(`http://${next.httpAddress}/master/state`)).status).toBe(200);
  });
});

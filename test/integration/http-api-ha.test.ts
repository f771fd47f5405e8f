// The v1 scheduler HTTP API with replicated masters and a real ZooKeeper:
// a standby answers 307 naming the leader (Location: //host:port/path) and
// the documented client follows it; when the leader goes, the client
// re-subscribes with its FrameworkID through the masters it knows and the
// new leader, having read its registry, takes the framework back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startZooKeeper, type TestZooKeeper } from '../harness/zookeeper.js';
import { startMaster, type RunningMaster } from '../../master/main.js';
import { waitUntil } from '../harness/wait-until.js';
import { MesosHttpClient, SubscribeRefused } from '../harness/mesos-http-client.js';

let zk: TestZooKeeper;
const masters: RunningMaster[] = [];
const clients: MesosHttpClient[] = [];
const quiet = () => {};

beforeAll(async () => {
  zk = await startZooKeeper();
  for (let i = 0; i < 2; i++) {
    masters.push(await startMaster({ port: 0, grpc_port: 0, heartbeat_interval: 0.5, zk: `zk://${zk.connectString}/mesos-ts-http`, zk_session_timeout: 2 }, quiet));
  }
  await waitUntil(() => masters.filter((m) => m.leading()).length === 1, 10_000, 'a leader');
}, 60_000);
afterAll(async () => {
  for (const c of clients) c.close();
  for (const m of masters) await m.stop();
  await zk?.stop();
});

describe('the scheduler HTTP API with replicated masters', () => {
  it('redirects from a standby to the leader; the client follows and subscribes there', async () => {
    const [leader, standby] = masters;
    expect(leader!.leading()).toBe(true);
    const probe = new MesosHttpClient({ master: standby!.httpAddress, encoding: 'json' });
    clients.push(probe);
    const answer = await probe.post(probe.encode({ type: 'SUBSCRIBE', subscribe: { framework_info: { name: 'probe', user: 'x' } } }), { 'Content-Type': 'application/json' });
    expect(answer.status).toBe(307);
    expect(answer.headers.location).toBe(`//${leader!.httpAddress}/api/v1/scheduler`);

    const c = new MesosHttpClient({ master: standby!.httpAddress, encoding: 'protobuf' });
    clients.push(c);
    const event = await c.subscribe({ name: 'ha-http', user: 'x', failover_timeout: 60 });
    expect(event.type).toBe('SUBSCRIBED');
    expect(c.master).toBe(leader!.httpAddress);
    expect(leader!.master.frameworks.get(c.frameworkId)?.connected).toBe(true);
  });

  it('re-subscribes with the new leader after the leader leaves, keeping its FrameworkID', async () => {
    const first = clients[1]!;
    const frameworkId = first.frameworkId;
    await masters[0]!.stop();
    await first.streamEnded(10_000);
    await waitUntil(() => masters[1]!.leading(), 15_000, 'master 1 to lead');
    // As the docs suggest for a scheduler that knows the masters: try each; 307s lead to the leader.
    const again = new MesosHttpClient({ master: masters[1]!.httpAddress, encoding: 'json' });
    clients.push(again);
    const event = await again.subscribe({ name: 'ha-http', user: 'x', failover_timeout: 60, id: { value: frameworkId } });
    expect(event.subscribed!.framework_id.value).toBe(frameworkId);
    expect((await again.call({ type: 'RECONCILE', reconcile: { tasks: [] } })).status).toBe(202);
    await again.next((e) => e.type === 'HEARTBEAT', 3000);
  });

  it('answers 503 when no master leads', async () => {
    await zk.stop();
    await waitUntil(() => !masters[1]!.leading(), 15_000, 'the leader to step down');
    const c = new MesosHttpClient({ master: masters[1]!.httpAddress, encoding: 'json' });
    clients.push(c);
    const refused = await c.subscribe({ name: 'late', user: 'x' }).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(SubscribeRefused);
    expect((refused as SubscribeRefused).answer.status).toBe(503);
  });
});

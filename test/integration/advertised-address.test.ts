// --advertise_ip / --advertise_port (and --hostname, --domain) as Mesos
// honours them: what a master and an agent hand out is the advertised
// address, not the one they listen on. A real ZooKeeper holds the master's
// MasterInfo; a scheduler over HTTP reads SUBSCRIBED and an offer; one over
// gRPC reads the same offer fields.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import { grpcObject, type OperatorClient } from '../../proto/index.js';
import { startZooKeeper, type TestZooKeeper } from '../harness/zookeeper.js';
import { startMaster, packIp, type RunningMaster } from '../../master/main.js';
import { startAgent, type RunningAgent } from '../../agent/main.js';
import { ZkSession } from '../../common/zk/session.js';
import { waitUntil } from '../harness/wait-until.js';
import { MesosHttpClient } from '../harness/mesos-http-client.js';
import { RawScheduler } from '../harness/grpc-scheduler.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Other loopback addresses: reachable here, yet distinct from the 127.0.0.1 everything listens on.
const MASTER_IP = '127.0.0.2';
const MASTER_PORT = 15050;
const AGENT_IP = '127.0.0.3';
const AGENT_PORT = 15051;
const DOMAIN = { fault_domain: { region: { name: 'region-a' }, zone: { name: 'zone-1' } } };

let zk: TestZooKeeper;
let master: RunningMaster;
let agent: RunningAgent;
let session: ZkSession;
let base: string;
const clients: { close(): void }[] = [];

beforeAll(async () => {
  zk = await startZooKeeper();
  base = mkdtempSync(join(tmpdir(), 'mesos-ts-advertise-'));
  master = await startMaster({
    zk: `zk://${zk.connectString}/mesos`, port: 0, grpc_port: 0, allocation_interval: 0.1, advertise_ip: MASTER_IP, advertise_port: MASTER_PORT,
    domain: JSON.stringify(DOMAIN),
  }, () => {});
  await waitUntil(() => master.leading(), 15_000, 'the master to lead');
  agent = await startAgent({
    master: master.grpcAddress, port: 0, work_dir: join(base, 'agent'), resources: 'cpus:1;mem:256;disk:256;ports:[31500-31501]',
    advertise_ip: AGENT_IP, advertise_port: AGENT_PORT, domain: JSON.stringify(DOMAIN), docker_pull: 'never', log: () => {},
  });
  await waitUntil(() => agent.agentId() !== null, 10_000, 'agent registration');
  session = await ZkSession.connect({ servers: zk.connectString, sessionTimeoutMs: 4000 });
}, 90_000);

afterAll(async () => {
  for (const c of clients) c.close();
  session?.close();
  await agent?.stop();
  await master?.stop();
  await zk?.stop();
  if (base) rmSync(base, { recursive: true, force: true });
});

const expectedMasterInfo = {
  ip: packIp(MASTER_IP), port: MASTER_PORT, pid: `master@${MASTER_IP}:${MASTER_PORT}`, hostname: MASTER_IP,
  address: { hostname: MASTER_IP, ip: MASTER_IP, port: MASTER_PORT },
  domain: DOMAIN,
};

describe('a master started with --advertise_ip, --advertise_port and --domain', () => {
  it('writes the advertised address in its MasterInfo in ZooKeeper', async () => {
    const [znode] = (await session.children('/mesos')).filter((c) => c.startsWith('json.info_'));
    const info = JSON.parse((await session.data(`/mesos/${znode}`))!.toString('utf8')) as Record<string, unknown>;
    expect(info).toMatchObject(expectedMasterInfo);
  });

  it('names it in /master/redirect', async () => {
    const answer = await fetch(`http://${master.httpAddress}/master/redirect`, { redirect: 'manual' });
    expect(answer.status).toBe(307);
    expect(answer.headers.get('location')).toBe(`//${MASTER_IP}:${MASTER_PORT}`);
  });

  it('hands it to schedulers in SUBSCRIBED', async () => {
    const client = new MesosHttpClient({ master: master.httpAddress, encoding: 'json' });
    clients.push(client);
    const event = await client.subscribe({ name: 'advertised', user: 'root' });
    expect(event.subscribed!.master_info).toMatchObject(expectedMasterInfo);
    expect((await client.call({ type: 'TEARDOWN' })).status).toBe(202); // The agent's offer goes to the next.
  });
});

describe('an agent started with --advertise_ip, --advertise_port and --domain', () => {
  it('is offered at its advertised address, with its domain, over HTTP', async () => {
    const client = new MesosHttpClient({ master: master.httpAddress, encoding: 'json' });
    clients.push(client);
    await client.subscribe({ name: 'offers-http', user: 'root' });
    const event = await client.next((e) => e.type === 'OFFERS');
    const offer = event.offers!.offers[0]! as unknown as Record<string, unknown>;
    expect(offer.url).toEqual({ scheme: 'http', address: { hostname: AGENT_IP, ip: AGENT_IP, port: AGENT_PORT }, path: '/slave(1)' });
    expect(offer.hostname).toBe(AGENT_IP);
    expect(offer.domain).toEqual(DOMAIN);
    expect(offer.allocation_info).toEqual({ role: '*' });
    expect((await client.call({ type: 'TEARDOWN' })).status).toBe(202);
  });

  it('and over gRPC', async () => {
    const scheduler = new RawScheduler(master.grpcAddress);
    clients.push(scheduler);
    await scheduler.subscribe({ name: 'offers-grpc', user: 'root' });
    const event = await scheduler.next((e) => e.type === 'OFFERS');
    const offer = event.offers!.offers[0]!;
    expect(offer.url?.address).toMatchObject({ ip: AGENT_IP, port: AGENT_PORT });
    expect(offer.domain?.fault_domain).toMatchObject(DOMAIN.fault_domain);
    expect(offer.resources.every((r) => r.allocation_info?.role === '*')).toBe(true);
  });
});

describe('a master whose gRPC listens apart from its HTTP (--grpc_ip), without the operator API over gRPC', () => {
  const GRPC_IP = '127.0.0.4';
  let split: RunningMaster;
  beforeAll(async () => {
    split = await startMaster({
      zk: `zk://${zk.connectString}/mesos-split`, ip: '127.0.0.1', grpc_ip: GRPC_IP, grpc_operator_api: false, port: 0, grpc_port: 0, allocation_interval: 0.1,
    }, () => {});
    await waitUntil(() => split.leading(), 15_000, 'the split master to lead');
  }, 30_000);
  afterAll(async () => {
    await split?.stop();
  });

  const unary = (address: string) => new Promise<grpc.status>((resolve) => {
    const client = new grpcObject.mesos_ts.operator.Operator(address, grpc.credentials.createInsecure()) as unknown as OperatorClient;
    client.GetHealth({ type: 'GET_HEALTH' }, new grpc.Metadata(), { deadline: Date.now() + 3000 }, (err) => {
      client.close();
      resolve(err ? (err as grpc.ServiceError).code : grpc.status.OK);
    });
  });

  it('serves gRPC on --grpc_ip and hands that address out in ZooKeeper; HTTP stays on --ip', async () => {
    const port = Number(split.grpcAddress.split(':')[1]);
    expect(split.grpcAddress).toBe(`${GRPC_IP}:${port}`);
    const [znode] = (await session.children('/mesos-split')).filter((c) => c.startsWith('json.info_'));
    const info = JSON.parse((await session.data(`/mesos-split/${znode}`))!.toString('utf8')) as Record<string, unknown>;
    expect(info.grpc_address).toBe(`${GRPC_IP}:${port}`);
    const scheduler = new RawScheduler(split.grpcAddress);
    clients.push(scheduler);
    await scheduler.subscribe({ name: 'split', user: 'root' });
    expect(scheduler.frameworkId).not.toBe('');
    // Nothing listens on the gRPC port at --ip, nor on the HTTP port at --grpc_ip.
    expect(await unary(`127.0.0.1:${port}`)).toBe(grpc.status.UNAVAILABLE);
    const httpPort = split.httpAddress.split(':')[1];
    await expect(fetch(`http://${GRPC_IP}:${httpPort}/master/health`, { signal: AbortSignal.timeout(3000) })).rejects.toThrow();
    expect((await fetch(`http://${split.httpAddress}/master/health`)).status).toBe(200);
  });

  it('answers the operator API over HTTP only: the gRPC Operator service is not there', async () => {
    expect(await unary(split.grpcAddress)).toBe(grpc.status.UNIMPLEMENTED);
    const res = await fetch(`http://${split.httpAddress}/api/v1`, {
      method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/json' }, body: JSON.stringify({ type: 'GET_HEALTH' }),
    });
    expect(await res.json()).toMatchObject({ type: 'GET_HEALTH', get_health: { healthy: true } });
  });

  it('refuses a --grpc_ip that is not an IPv4 address', async () => {
    await expect(startMaster({ grpc_ip: 'example.com', port: 0, grpc_port: 0 }, () => {})).rejects.toThrow("--grpc_ip: 'example.com' is not an IPv4 address");
  });
});

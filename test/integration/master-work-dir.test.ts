// A master leading alone keeps its registry under --work_dir, as Mesos keeps
// its own there: a master restarted with the same --work_dir knows the agents
// and frameworks it had (real gRPC, a real agent link, a real file). The
// file store itself: atomic rewrites, and a clear refusal of a file it did
// not write.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMaster, type RunningMaster } from '../../master/main.js';
import { FileRegistryStore } from '../../master/registry/file-store.js';
import { LinkAgent } from '../harness/link-agent.js';
import { RawScheduler } from '../harness/grpc-scheduler.js';
import { waitUntil } from '../harness/wait-until.js';

const base = mkdtempSync(join(tmpdir(), 'mesos-ts-workdir-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

describe('--work_dir', () => {
  it('a restarted master takes back the agents and frameworks it had admitted', async () => {
    const workDir = join(base, 'master');
    let master: RunningMaster = await startMaster({ port: 0, grpc_port: 0, work_dir: workDir, quiet: true }, () => {});
    const agent = new LinkAgent({ master: master.grpcAddress, resources: 'cpus:2;mem:256' });
    const agentId = await agent.start();
    const scheduler = new RawScheduler(master.grpcAddress);
    await scheduler.subscribe({ name: 'kept', user: 'root', failover_timeout: 600 });
    const frameworkId = scheduler.frameworkId;
    scheduler.close();
    agent.stop();
    const port = Number(master.grpcAddress.split(':')[1]);
    await master.stop();
    expect(existsSync(join(workDir, 'registry.json'))).toBe(true);

    master = await startMaster({ port: 0, grpc_port: port, work_dir: workDir, quiet: true }, () => {});
    try {
      // Known at once from the registry: the agent waits to re-register, the framework to re-subscribe.
      expect(master.master.agents.get(agentId)?.recovered).toBe(true);
      expect(master.master.frameworks.get(frameworkId)?.connected).toBe(false);
      const back = new LinkAgent({ master: master.grpcAddress, resources: 'cpus:2;mem:256' });
      back.agentId = agentId; // Re-registers under the id it had, with the secret issued with it (its checkpoint's).
      back.secret = agent.secret;
      expect(await back.start()).toBe(agentId);
      expect(master.master.agents.get(agentId)).toMatchObject({ recovered: false, connected: true });
      back.stop();
      const again = new RawScheduler(master.grpcAddress);
      await again.subscribe({ id: { value: frameworkId }, name: 'kept', user: 'root', failover_timeout: 600 });
      expect(again.frameworkId).toBe(frameworkId);
      await waitUntil(() => master.master.frameworks.get(frameworkId)?.connected === true, 5_000, 'the framework to re-subscribe');
      again.close();
    } finally {
      await master.stop();
    }
  });

  it('writes all of a write or nothing, and refuses a file it did not write, naming it', async () => {
    const path = join(base, 'store', 'registry.json');
    const store = new FileRegistryStore(path);
    expect(await store.load()).toEqual(new Map());
    await store.write([{ key: 'agents/a1', value: { info: { hostname: 'h' } } }, { key: 'frameworks/f1', value: { info: { name: 'f' } } }]);
    await store.write([{ key: 'agents/a1', value: null }]);
    expect([...(await new FileRegistryStore(path).load()).keys()]).toEqual(['frameworks/f1']);
    expect(existsSync(`${path}.tmp`)).toBe(false); // Renamed over the old file.
    expect(JSON.parse(readFileSync(path, 'utf8')).format).toBe('mesos-ts registry 1');
    writeFileSync(path, '{"not": "ours"}');
    await expect(new FileRegistryStore(path).load()).rejects.toThrow(`${path} is not a registry this master wrote`);
    writeFileSync(path, '{ torn');
    await expect(new FileRegistryStore(path).load()).rejects.toThrow(/move it away to start empty/);
  });
});

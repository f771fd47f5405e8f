// A real cluster in the test process: a master and agents over loopback
// gRPC, tasks in real containers on the Docker engine. Every container is
// labelled with the cluster's temporary work_dir; `stop()` removes them all.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { startMaster, type MasterFlags, type RunningMaster } from '../../master/main.js';
import { startAgent, type AgentStartOptions, type RunningAgent } from '../../agent/main.js';
import { waitUntil } from './wait-until.js';
import { removeOciContainers } from './oci.js';

export { TEST_IMAGE } from './grpc-scheduler.js';

export interface TestCluster {
  readonly master: RunningMaster;
  readonly agents: RunningAgent[];
  readonly base: string;
  readonly logs: string[];
  addAgent(resources: string, attributes?: string): Promise<RunningAgent>;
  stop(): Promise<void>;
}

/** `agent`: flags every agent gets besides the harness's own (e.g. a --credential). */
export async function startCluster(opts: { agents?: string[]; master?: Partial<MasterFlags>; agent?: Partial<AgentStartOptions> } = {}): Promise<TestCluster> {
  const base = mkdtempSync(join(tmpdir(), 'mesos-ts-test-'));
  const logs: string[] = [];
  const log = (line: string) => logs.push(line);
  const master = await startMaster({ port: 0, grpc_port: 0, allocation_interval: 0.1, ...opts.master }, log);
  const agents: RunningAgent[] = [];
  const addAgent = async (resources: string, attributes = '') => {
    const agent = await startAgent({
      master: master.grpcAddress, port: 0, work_dir: join(base, `agent-${agents.length}`), resources, attributes,
      docker_pull: 'never', kill_grace_period: 1, status_update_retry_interval: 1, log, ...opts.agent,
    });
    agents.push(agent);
    await waitUntil(() => agent.agentId() !== null, 10_000, 'agent registration');
    return agent;
  };
  for (const r of opts.agents ?? ['cpus:2;mem:1024;disk:1024;ports:[31000-31099]']) await addAgent(r);
  return {
    master, agents, base, logs, addAgent,
    async stop() {
      for (const a of agents) await a.stop({ killTasks: true }).catch(() => {});
      await master.stop();
      await removeContainersUnder(base);
      await removeOciContainers(agents.map((a) => a.workDir));
      rmSync(base, { recursive: true, force: true });
    },
  };
}

export async function containersUnder(base: string): Promise<Docker.ContainerInfo[]> {
  const all = await new Docker().listContainers({ all: true, filters: { label: ['mesos-ts.work_dir'] } });
  return all.filter((c) => (c.Labels['mesos-ts.work_dir'] ?? '').startsWith(base));
}

/** Removes every container whose work_dir label lies under `base` (a test's clean-up). */
export async function removeContainersUnder(base: string): Promise<void> {
  const docker = new Docker();
  for (const c of await containersUnder(base)) await docker.getContainer(c.Id).remove({ force: true }).catch(() => {});
}

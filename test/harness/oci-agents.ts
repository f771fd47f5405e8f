// Agents with --containerizers=mesos and no Docker engine to talk to (their
// --docker_socket names nothing), as real processes, beside a master in the
// test's process: what the whole-agent tests of the mesos containerizer share
// (start an agent, wait for its registration, take an offer of it once, shape
// a MESOS task, subscribe a framework that acknowledges every update).
import { expect } from 'vitest';
import { startMaster, type RunningMaster } from '../../master/main.js';
import { ProcessGroup, type AgentProc } from './processes.js';
import { freePort } from './zookeeper.js';
import { RawScheduler, TEST_IMAGE, commandTask } from './grpc-scheduler.js';
import { waitUntil } from './wait-until.js';
import { removeOciContainers } from './oci.js';
import { unmountUnder } from '../../common/hosts/engine-leftovers.js';
import type { Leftovers } from './leftovers.js';
import type { OfferOut, TaskInfoIn } from '../../proto/index.js';

export class OciAgents {
  readonly group = new ProcessGroup();
  private readonly workDirs = new Set<string>();
  private readonly used = new Set<string>();

  private constructor(readonly master: RunningMaster, readonly grpcPort: number) {}

  static async start(): Promise<OciAgents> {
    const grpcPort = await freePort();
    const master = await startMaster({ port: 0, grpc_port: grpcPort, allocation_interval: 0.1 }, () => {});
    return new OciAgents(master, grpcPort);
  }

  /** SIGKILLs what still runs, removes every OCI container of its agents' work_dirs and any mount left, stops the master. */
  async stop(): Promise<void> {
    if (process.env.DEBUG_TEST) for (const p of this.group.processes()) console.error(`--- ${p.name}\n${p.lines.join('\n')}`);
    for (const p of this.group.processes()) p.signal('SIGKILL');
    await removeOciContainers([...this.workDirs]);
    // A root no container records (what a failing test shows left) is unmounted all the same.
    await unmountUnder(this.group.dir);
    await this.master.stop();
    await this.group.stopAll();
  }

  /** `env`: added to the agent's environment. */
  async startAgent(name: string, extra: readonly string[] = [], env: Readonly<Record<string, string>> = {}): Promise<AgentProc> {
    const agent = await this.group.spawnAgent(name, [
      `--master=127.0.0.1:${this.grpcPort}`, '--resources=cpus:2;mem:1024;disk:100;ports:[31920-31929]', '--status_update_retry_interval=0.5s',
      '--containerizers=mesos', '--docker_socket=/nonexistent/docker.sock', ...extra,
    ], { env });
    this.workDirs.add(agent.workDir);
    return agent;
  }

  async agentId(agent: AgentProc): Promise<string> {
    let id = '';
    await waitUntil(() => (id = [...this.master.master.agents.values()].find((a) => a.connected && a.info.port === agent.httpPort)?.id ?? '') !== '', 20_000, 'agent registration');
    return id;
  }

  /** An offer of agent `id` not taken before (each is used once). */
  async offerOn(s: RawScheduler, id: string): Promise<OfferOut> {
    for (const e of s.events) if (e.rescind?.offer_id?.value) this.used.add(e.rescind.offer_id.value);
    const unused = (o: OfferOut) => o.agent_id?.value === id && !this.used.has(o.id!.value);
    const e = await s.next((ev) => ev.type === 'OFFERS' && ev.offers!.offers.some(unused));
    const offer = e.offers!.offers.find(unused)!;
    this.used.add(offer.id!.value);
    return offer;
  }

  async subscribe(name: string): Promise<RawScheduler> {
    const s = new RawScheduler(`127.0.0.1:${this.grpcPort}`);
    s.autoAcknowledge = true;
    await s.subscribe({ name, user: 'root', failover_timeout: 600 });
    return s;
  }
}

/** A shell task in a MESOS container (mesos.image of type DOCKER, as Mesos shapes it). */
export function mesosTask(id: string, offer: OfferOut, command: string, resources = 'cpus:0.1;mem:32', image = TEST_IMAGE): TaskInfoIn {
  return { ...commandTask(id, offer, command, resources), container: { type: 'MESOS', mesos: { image: { type: 'DOCKER', docker: { name: image } } } } };
}

/** Every container id the framework's updates named, in the order first seen. */
export function containersSeen(s: RawScheduler): string[] {
  const ids = s.events.map((e) => e.update?.status?.container_status?.container_id?.value).filter((c): c is string => c !== undefined);
  return [...new Set(ids)];
}

/** Waits (15 s at most) until `count` gives `expected`, then asserts it: a failure shows what is left. */
export async function settles(count: () => Leftovers, expected: Leftovers): Promise<void> {
  await waitUntil(() => JSON.stringify(count()) === JSON.stringify(expected), 15_000, 'the count to settle').catch(() => {});
  expect(count()).toEqual(expected);
}

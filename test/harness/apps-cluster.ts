// A cluster for the apps framework's end-to-end tests, all real processes:
// ZooKeeper, a master, agents with distinct hostnames and port ranges (they
// share this machine's network: 36000 and up, which other tests leave
// alone), and `mesos-ts apps` instances electing a leader. Short intervals
// everywhere so the suite stays fast. stop() ends every process and removes
// every task container (ProcessGroup.stopAll).
import { startZooKeeper, type TestZooKeeper } from './zookeeper.js';
import { ProcessGroup, freePort, leaderOf, type MasterProc, type Proc } from './processes.js';
import { waitUntil } from './wait-until.js';

export interface AppsProc extends Proc {
  readonly url: string;
}

export interface AppsCluster {
  readonly zk: TestZooKeeper;
  readonly group: ProcessGroup;
  readonly mesosZk: string;
  readonly appsZk: string;
  /** The first master's HTTP address (with several, use leadingMaster()). */
  readonly masterHttp: string;
  readonly masters: MasterProc[];
  /** The master that answers /state (standbys redirect). */
  leadingMaster(): Promise<MasterProc>;
  readonly apps: AppsProc[];
  /** Another `mesos-ts apps` instance; `flags` come last (--http_credentials, ...). */
  startApps(name: string, flags?: readonly string[]): Promise<AppsProc>;
  /** The instance that answers /v2/info as elected (an Authorization value for instances that demand one). */
  leader(authorization?: string): Promise<AppsProc>;
  stop(): Promise<void>;
}

export interface AppsClusterOptions {
  readonly masters?: number;
  readonly masterFlags?: readonly string[];
  /** Each agent's resources besides its ports (default cpus:2;mem:1024;disk:1024). */
  readonly agentResources?: string;
}

export async function startAppsCluster(agents: readonly string[] = ['host-a', 'host-b'], options: AppsClusterOptions = {}): Promise<AppsCluster> {
  const zk = await startZooKeeper();
  const group = new ProcessGroup();
  const mesosZk = `zk://${zk.connectString}/mesos`;
  const appsZk = `zk://${zk.connectString}/mesos-ts-apps`;
  const masters: MasterProc[] = [];
  for (let i = 1; i <= (options.masters ?? 1); i++) {
    masters.push(await group.spawnMaster(`master-${i}`, [`--zk=${mesosZk}`, '--zk_session_timeout=5s', '--allocation_interval=0.1s', ...(options.masterFlags ?? [])]));
  }
  const leadingMaster = async (): Promise<MasterProc> => {
    let found: MasterProc | null = null;
    await waitUntil(async () => (found = await leaderOf(masters)) !== null, 30_000, 'a leading master');
    return found!;
  };
  const master = await leadingMaster();
  await Promise.all(agents.map((hostname, i) => group.spawnAgent(`agent-${hostname}`, [
    `--master=${mesosZk}`, `--hostname=${hostname}`, `--resources=${options.agentResources ?? 'cpus:2;mem:1024;disk:1024'};ports:[${36000 + i * 100}-${36099 + i * 100}]`,
  ])));
  await waitUntil(async () => {
    const res = await fetch(`http://${master.httpAddress}/state`).catch(() => null);
    const state = res?.ok ? ((await res.json()) as { slaves: unknown[] }) : null;
    return state?.slaves.length === agents.length;
  }, 30_000, 'every agent to register');
  const apps: AppsProc[] = [];
  const cluster: AppsCluster = {
    zk, group, mesosZk, appsZk, masterHttp: master.httpAddress, masters, leadingMaster, apps,
    async startApps(name, flags = []) {
      const port = await freePort();
      const proc = group.spawnCommand(name, [
        'apps', `--master=${mesosZk}`, `--zk=${appsZk}`, `--http_port=${port}`, '--http_address=127.0.0.1', '--hostname=127.0.0.1',
        '--decline_offer_duration=1s', '--reconciliation_timeout=3s', '--zk_session_timeout=5s', '--check_interval=0.5s', '--failover_timeout=1h',
        ...flags,
      ]);
      await proc.waitForLine(/REST API on/, 20_000);
      const running = Object.assign(proc, { url: `http://127.0.0.1:${port}` });
      apps.push(running);
      return running;
    },
    async leader(authorization?: string) {
      let found: AppsProc | undefined;
      await waitUntil(async () => {
        for (const a of apps.filter((p) => p.alive())) {
          const res = await fetch(`${a.url}/v2/info`, { redirect: 'manual', headers: authorization ? { authorization } : {} }).catch(() => null);
          // The body is read (or dropped) whatever the answer: an elected instance may not be ready yet.
          const elected = res?.status === 200 ? ((await res.json()) as { elected: boolean }).elected : (await res?.body?.cancel(), false);
          if (elected && a.lines.some((l) => /leading and ready/.test(l))) found = a;
          if (found) return true;
        }
        return false;
      }, 30_000, 'an apps instance to lead');
      return found!;
    },
    async stop() {
      await group.stopAll();
      await zk.stop();
    },
  };
  return cluster;
}

/** A JSON call to the apps REST API; answers status and parsed body. */
export async function api(base: string, method: string, path: string, body?: unknown, authorization?: string): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(`${base}${path}`, {
    method, redirect: 'manual',
    headers: { ...(authorization && { authorization }), ...(body !== undefined && { 'content-type': 'application/json' }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    // plain text (/ping, /metrics)
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

// A real ZooKeeper ensemble for tests: Debian's zookeeper package run as
// QuorumPeerMain, one member per simulated host (hosts.ts) on the standard
// ports 2181/2888/3888 at the host's address, or all on loopback on distinct
// free ports. Short tickTime (default 200 ms) so sessions expire in about a
// second and elections take a fraction of one. Members are killed
// (SIGKILL) and restarted with their data; stop() removes everything.
import { type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fourLetter, freePort, killZooKeeper, launchZooKeeper } from '../../common/zk/local-server.js';
import type { Host } from './hosts.js';
import { waitUntil } from './wait-until.js';

export interface EnsembleMember {
  /** The server id (myid), 1-based. */
  readonly id: number;
  readonly host: Host | null;
  readonly address: string;
  readonly clientPort: number;
  /** The JVM's pid, or null while down. */
  pid(): number | null;
  /** SIGKILL, keeping the data for up(). */
  down(): Promise<void>;
  /** Starts it again with its data; resolves once it answers `ruok` (it may still be electing). */
  up(): Promise<void>;
  /** 'leader', 'follower', or null when not serving (down, or no quorum). */
  mode(): Promise<string | null>;
}

export interface ZooKeeperEnsemble {
  readonly members: readonly EnsembleMember[];
  /** host:port,host:port,host:port, what a ZooKeeper client connects to. */
  readonly connectString: string;
  /** zk://a:p,b:p,c:p<path>, what --zk and --master take. */
  url(path?: string): string;
  /** Resolves once a quorum serves (a leader and enough followers; with `all`, every member), within `ms`. */
  waitServing(ms?: number, all?: boolean): Promise<void>;
  /** Kills every member and removes the data. */
  stop(): Promise<void>;
}

export interface EnsembleOptions {
  /** One member per host; without, `size` members on loopback. */
  readonly hosts?: readonly Host[];
  readonly size?: number;
  readonly tickTimeMs?: number;
}

const PORTS = { client: 2181, quorum: 2888, election: 3888 } as const;

export async function startZooKeeperEnsemble(opts: EnsembleOptions = {}): Promise<ZooKeeperEnsemble> {
  const tick = opts.tickTimeMs ?? 200;
  const size = opts.hosts?.length ?? opts.size ?? 3;
  const dir = mkdtempSync(join(tmpdir(), 'mesos-ts-zk-ensemble-'));
  const spots = [];
  for (let i = 0; i < size; i++) {
    const host = opts.hosts?.[i] ?? null;
    spots.push(host
      ? { host, address: host.address, client: PORTS.client, quorum: PORTS.quorum, election: PORTS.election }
      : { host, address: '127.0.0.1', client: await freePort(), quorum: await freePort(), election: await freePort() });
  }
  const servers = spots.map((s, i) => `server.${i + 1}=${s.address}:${s.quorum}:${s.election}`);
  const members = spots.map((spot, i) => {
    const id = i + 1;
    const memberDir = join(dir, `zk${id}`);
    mkdirSync(join(memberDir, 'data'), { recursive: true });
    writeFileSync(join(memberDir, 'data', 'myid'), `${id}\n`);
    writeFileSync(join(memberDir, 'zoo.cfg'), [
      `tickTime=${tick}`, 'initLimit=10', 'syncLimit=5', `dataDir=${memberDir}/data`,
      `clientPort=${spot.client}`, `clientPortAddress=${spot.address}`, `minSessionTimeout=${tick * 2}`,
      // Up to 10 s whatever the tick: a session must be able to outlast the election that follows the loss of the leader.
      `maxSessionTimeout=${Math.max(tick * 20, 10_000)}`,
      // A member cut off by a partition must not hold up elections for the default 5 s.
      'cnxTimeout=1000', 'maxClientCnxns=0', 'admin.enableServer=false', '4lw.commands.whitelist=ruok,srvr,stat', ...servers,
    ].join('\n') + '\n');
    let child: ChildProcess | null = null;
    const member: EnsembleMember = {
      id, host: spot.host, address: spot.address, clientPort: spot.client,
      pid: () => child?.pid ?? null,
      async down() {
        await killZooKeeper(child);
        child = null;
      },
      async up() {
        if (child) return;
        child = await launchZooKeeper({
          dir: memberDir, address: spot.address, port: spot.client, mainClass: 'org.apache.zookeeper.server.quorum.QuorumPeerMain', heapMb: 128,
          ...(spot.host ? { prefix: spot.host.nsenter() } : {}),
        });
        if (child.pid !== undefined) spot.host?.track(child.pid);
      },
      async mode() {
        const m = /^Mode: (\w+)/m.exec(await fourLetter(spot.address, spot.client, 'srvr'));
        return m?.[1] ?? null;
      },
    };
    return member;
  });
  const connectString = spots.map((s) => `${s.address}:${s.client}`).join(',');
  const ensemble: ZooKeeperEnsemble = {
    members,
    connectString,
    url: (path = '/mesos') => `zk://${connectString}${path}`,
    async waitServing(ms = 60_000, all = false) {
      const quorum = all ? size : Math.floor(size / 2) + 1;
      await waitUntil(async () => {
        const modes = await Promise.all(members.map((m) => m.mode()));
        return modes.includes('leader') && modes.filter((m) => m === 'leader' || m === 'follower').length >= quorum;
      }, ms, `a quorum of the ZooKeeper ensemble ${connectString} to serve`);
    },
    async stop() {
      await Promise.all(members.map((m) => m.down()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await Promise.all(members.map((m) => m.up()));
    await ensemble.waitServing();
  } catch (err) {
    await ensemble.stop();
    throw err;
  }
  return ensemble;
}

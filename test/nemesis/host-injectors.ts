// The faults of a fault run on simulated hosts (cluster.ts with `hosts`):
// network partitions (iptables DROP rules inside the hosts' namespaces,
// test/harness/faults.ts) and ZooKeeper ensemble members killed and started
// again. Each injector has its own set of rules, so that with faults
// overlapping, healing one removes only its own rules (a rule two faults both
// added is in twice and stays until both heal). There is no netem on this
// kernel: no delays, reordering or partial loss, only cuts.
import { Faults } from '../harness/faults.js';
import type { Host } from '../harness/hosts.js';
import type { EnsembleMember } from '../harness/zk-ensemble.js';
import type { NemesisCluster } from './cluster.js';
import { pick, processInjectors, type Injector } from './injectors.js';
import { machineInjectors } from './machine-injectors.js';
import { FAKETIME_LIB } from './machines.js';

/** A cut chosen by an injector: what it names in the history and the rules that make it. */
interface Cut {
  readonly target: string;
  readonly description: string;
  apply(faults: Faults): Promise<void>;
}

/** An injector of cuts: `choose` draws one (null: nothing to cut now); heal removes its rules. */
function partitionInjector(name: string, choose: (random: () => number) => Promise<Cut | null>): Injector {
  const faults = new Faults();
  return {
    name,
    async inject(random) {
      const cut = await choose(random);
      if (!cut) return null;
      // A rule that failed half-way is taken back whole.
      await cut.apply(faults).catch(async (err: unknown) => {
        await faults.heal();
        throw err;
      });
      return { kind: name, target: cut.target, description: cut.description };
    },
    heal: () => faults.heal(),
    holding: () => new Set(),
  };
}

/** Two different hosts, in drawn order. */
function twoHosts(hosts: readonly Host[], random: () => number): [Host, Host] {
  const a = pick(hosts, random)!;
  return [a, pick(hosts.filter((h) => h !== a), random)!];
}

/** The host of the leading master, or null when none leads now. */
async function leaderHost(cluster: NemesisCluster): Promise<Host | null> {
  const leader = await cluster.leader();
  return leader ? cluster.hostOf(leader.name) ?? null : null;
}

const byRole = (cluster: NemesisCluster, role: string) => cluster.hosts().filter((h) => h.name.startsWith(`${role}-`));

export function networkInjectors(cluster: NemesisCluster): Injector[] {
  const all = cluster.hosts();
  return [
    partitionInjector('partition-pair', async (random) => {
      const [a, b] = twoHosts(all, random);
      return { target: `${a.name}|${b.name}`, description: `partition ${a.name} from ${b.name}, both ways`, apply: (f) => f.partition(a, b) };
    }),
    partitionInjector('partition-one-way', async (random) => {
      const [from, to] = twoHosts(all, random);
      return { target: `${from.name}>${to.name}`, description: `drop every packet from ${from.name} to ${to.name} (one way)`, apply: (f) => f.partitionOneWay(from, to) };
    }),
    partitionInjector('isolate-host', async (random) => {
      // The leader's host half the time: the interesting isolation; any host otherwise.
      const wantLeader = random() < 0.5;
      const host = (wantLeader ? await leaderHost(cluster) : null) ?? pick(all, random)!;
      return { target: host.name, description: `isolate ${host.name} from every other host`, apply: (f) => f.isolate(host, all) };
    }),
    partitionInjector('leader-from-zookeeper', async () => {
      const host = await leaderHost(cluster);
      const members = byRole(cluster, 'zk');
      if (!host) return null;
      return { target: host.name, description: `cut the leader's host ${host.name} off from every ZooKeeper member`, apply: async (f) => {
        for (const m of members) await f.partition(host, m);
      } };
    }),
    partitionInjector('split-masters', async () => {
      const masters = byRole(cluster, 'master');
      return { target: masters.map((h) => h.name).join('|'), description: 'split the masters from each other', apply: (f) => f.splitMasters(masters) };
    }),
  ];
}

/**
 * `count` ZooKeeper members, among those up, killed (SIGKILL) and started again with their data on heal. One
 * down changes nothing; two leave no quorum: no master leads until they are back, and nothing may be lost.
 */
export function zkMembersInjector(cluster: NemesisCluster, count: 1 | 2): Injector {
  const name = count === 1 ? 'kill-zk-member' : 'kill-zk-quorum';
  let down: EnsembleMember[] = [];
  return {
    name,
    async inject(random) {
      const up = cluster.ensemble.members.filter((m) => m.pid() !== null);
      if (up.length < count) return null;
      const chosen: EnsembleMember[] = [];
      while (chosen.length < count) chosen.push(pick(up.filter((m) => !chosen.includes(m)), random)!);
      await Promise.all(chosen.map((m) => m.down()));
      down = chosen;
      const names = chosen.map((m) => `zk-${m.id}`);
      return { kind: name, target: names.join('+'), description: `SIGKILL ZooKeeper member${count > 1 ? 's' : ''} ${names.join(' and ')}` };
    },
    async heal() {
      const members = down;
      down = [];
      await Promise.all(members.map((m) => m.up()));
    },
    holding: () => new Set(),
  };
}

/**
 * Every fault of a cluster on hosts: the process faults, the partitions, ensemble members lost one or two at a time,
 * and the machines' (engine restarts, full disks, clock jumps where libfaketime is installed).
 */
export function hostInjectors(cluster: NemesisCluster): Injector[] {
  return [
    ...processInjectors(cluster), ...networkInjectors(cluster), zkMembersInjector(cluster, 1), zkMembersInjector(cluster, 2),
    ...machineInjectors(cluster, FAKETIME_LIB !== null),
  ];
}

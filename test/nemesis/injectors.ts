// The faults of a fault run behind one small interface, so that faults which
// need more than a loopback (partitions between network namespaces, a
// ZooKeeper ensemble's members, engine restarts, full disks, clock jumps)
// plug in as more injectors (host-injectors.ts has the partitions and the
// ensemble's members). Here: the process faults any cluster allows, SIGKILL
// (and a restart in the same slot) and SIGSTOP/SIGCONT of a master (the
// leader or a standby), an agent and a framework, and a kill of the loopback
// cluster's single ZooKeeper server.
import type { NemesisCluster } from './cluster.js';

/**
 * How long a machine fault (an engine stop, a full disk) waits for a task container to run where it strikes before it
 * strikes anyway: a fault that ends no task proves nothing. Long enough for a take-over (a killed leader's session to
 * expire, a new one elected, the frameworks offered again) under a loaded machine's delays: a CI run's engine stop
 * right after kill-master waited 10 s and found none.
 */
export const TASK_WAIT_MS = 30_000;

/** What an injector did, for the history and the report. */
export interface Fault {
  /** kill-master, pause-agent, kill-zookeeper, ... */
  readonly kind: string;
  /** The process (slot) it hit: master-2, agent-1, fw-1, zookeeper. */
  readonly target: string;
  readonly description: string;
  /** The tasks whose containers ran where the fault struck (an engine stopped, a disk filled), for the checker. */
  readonly tasks?: readonly string[];
  /** Those of `tasks` whose containers the fault itself ended. */
  readonly ended?: readonly string[];
}

export interface Injector {
  readonly name: string;
  /** Injects one fault, its choices drawn from `random`; null when it has nothing to hit now. */
  inject(random: () => number): Promise<Fault | null>;
  /** Undoes the fault injected last (restart, SIGCONT, ...); a no-op when none is in force. */
  heal(): Promise<void>;
  /** The slots the fault in force keeps down (not to be revived meanwhile). */
  holding(): ReadonlySet<string>;
}

export const pick = <T>(items: readonly T[], random: () => number): T | undefined => items[Math.floor(random() * items.length)];

interface Target {
  readonly name: string;
  signal(sig: NodeJS.Signals): void;
  alive(): boolean;
}

type Role = 'master' | 'agent' | 'framework';

/** A live process of `role`; a master is the leader half the time, a standby otherwise. */
async function chooseTarget(cluster: NemesisCluster, role: Role, random: () => number): Promise<{ target: Target; what: string } | undefined> {
  if (role === 'master') {
    const wantLeader = random() < 0.5;
    const leader = await cluster.leader();
    const live = [...cluster.masters.values()].filter((m) => m.alive());
    const choice = wantLeader && leader ? leader : pick(live.filter((m) => m !== leader), random) ?? leader ?? undefined;
    return choice && { target: choice, what: choice === leader ? 'the leader' : 'a standby' };
  }
  const pool: Target[] = role === 'agent' ? [...cluster.agents.values()] : [...cluster.frameworks.values()];
  const choice = pick(pool.filter((p) => p.alive()), random);
  return choice && { target: choice, what: `a${role === 'agent' ? 'n' : ''} ${role}` };
}

/** SIGKILL of a process; heal starts it again in its slot (agents recover their tasks, frameworks fail over). */
export function killInjector(cluster: NemesisCluster, role: Role): Injector {
  let down: string | null = null;
  return {
    name: `kill-${role}`,
    async inject(random) {
      const chosen = await chooseTarget(cluster, role, random);
      if (!chosen) return null;
      chosen.target.signal('SIGKILL');
      down = chosen.target.name;
      return { kind: `kill-${role}`, target: down, description: `SIGKILL ${chosen.what} (${down})` };
    },
    async heal() {
      const name = down;
      down = null;
      if (name === null) return;
      if (role === 'master') await cluster.startMaster(name);
      else if (role === 'agent') await cluster.startAgent(name);
      else cluster.startFramework(name);
    },
    holding: () => new Set(down === null ? [] : [down]),
  };
}

/** SIGSTOP of a process; heal sends SIGCONT. A master frozen past its session steps down and exits when it resumes. */
export function pauseInjector(cluster: NemesisCluster, role: Role): Injector {
  let frozen: Target | null = null;
  return {
    name: `pause-${role}`,
    async inject(random) {
      const chosen = await chooseTarget(cluster, role, random);
      if (!chosen) return null;
      chosen.target.signal('SIGSTOP');
      frozen = chosen.target;
      return { kind: `pause-${role}`, target: frozen.name, description: `SIGSTOP ${chosen.what} (${frozen.name})` };
    },
    async heal() {
      frozen?.signal('SIGCONT');
      frozen = null;
    },
    holding: () => new Set(frozen === null ? [] : [frozen.name]),
  };
}

/** The single ZooKeeper server killed (SIGKILL) and started again on its port with its data. */
export function zooKeeperInjector(cluster: NemesisCluster): Injector {
  let down = false;
  return {
    name: 'kill-zookeeper',
    async inject() {
      await cluster.zk.down();
      down = true;
      return { kind: 'kill-zookeeper', target: 'zookeeper', description: 'SIGKILL the ZooKeeper server' };
    },
    async heal() {
      if (down) await cluster.zk.up();
      down = false;
    },
    holding: () => new Set(),
  };
}

/** SIGKILL and SIGSTOP of a master, an agent and a framework: the faults of any cluster. */
export function processInjectors(cluster: NemesisCluster): Injector[] {
  return [
    killInjector(cluster, 'master'), pauseInjector(cluster, 'master'),
    killInjector(cluster, 'agent'), pauseInjector(cluster, 'agent'),
    killInjector(cluster, 'framework'), pauseInjector(cluster, 'framework'),
  ];
}

/** Every fault this machine's loopback cluster allows. */
export function loopbackInjectors(cluster: NemesisCluster): Injector[] {
  return [...processInjectors(cluster), zooKeeperInjector(cluster)];
}

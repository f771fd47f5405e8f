// The names of the faults a run can inject, known before any cluster runs,
// so that a run asked for faults it cannot make (a typo, a partition on
// loopback, a clock jump without libfaketime) is refused before it starts
// anything. The injectors (injectors.ts, host-injectors.ts,
// machine-injectors.ts) carry the same names; a unit test holds them equal.

/** SIGKILL and SIGSTOP of a master, an agent and a framework: any cluster. */
export const PROCESS_FAULTS = ['kill-master', 'pause-master', 'kill-agent', 'pause-agent', 'kill-framework', 'pause-framework'] as const;
/** The single ZooKeeper server of a loopback cluster. */
export const LOOPBACK_ONLY_FAULTS = ['kill-zookeeper'] as const;
/** Partitions and ensemble members: a cluster on simulated hosts. */
export const NETWORK_FAULTS = ['partition-pair', 'partition-one-way', 'isolate-host', 'leader-from-zookeeper', 'split-masters', 'kill-zk-member', 'kill-zk-quorum'] as const;
/** The machine under an agent on a host: its own engine, its work_dir tmpfs. */
export const MACHINE_FAULTS = ['restart-engine', 'restart-engine-live-restore', 'fill-disk'] as const;
/** Needs libfaketime as well as hosts. */
export const CLOCK_FAULT = 'jump-clock';

export interface FaultContext {
  readonly hosts: boolean;
  /** libfaketime is installed (machines.ts: FAKETIME_LIB). */
  readonly clockJumps: boolean;
}

/** Every fault of a run of this kind, in the order the injectors come. */
export function faultNames(c: FaultContext): string[] {
  if (!c.hosts) return [...PROCESS_FAULTS, ...LOOPBACK_ONLY_FAULTS];
  return [...PROCESS_FAULTS, ...NETWORK_FAULTS, ...MACHINE_FAULTS, ...(c.clockJumps ? [CLOCK_FAULT] : [])];
}

/** Why `names` cannot be injected by a run of this kind, one reason per name; empty when they all can. */
export function refusedFaults(names: readonly string[], c: FaultContext): string[] {
  if (names.length === 0) return ['--faults names no fault'];
  const known = faultNames(c);
  const hostsOnly = new Set<string>([...NETWORK_FAULTS, ...MACHINE_FAULTS, CLOCK_FAULT]);
  const reasons: string[] = [];
  for (const name of names) {
    if (known.includes(name)) continue;
    if (!c.hosts && hostsOnly.has(name)) reasons.push(`${name} needs simulated hosts (--hosts)`);
    else if (c.hosts && (LOOPBACK_ONLY_FAULTS as readonly string[]).includes(name)) reasons.push(`${name} is a loopback fault (on hosts: kill-zk-member, kill-zk-quorum)`);
    else if (name === CLOCK_FAULT) reasons.push(`${name} needs libfaketime (Debian's faketime package; bash scripts/setup.sh installs it)`);
    else reasons.push(`unknown fault '${name}'`);
  }
  if (reasons.length > 0) reasons.push(`this run's faults: ${known.join(', ')}`);
  return reasons;
}

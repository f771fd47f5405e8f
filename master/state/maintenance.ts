// Maintenance as Mesos models it. An operator posts a schedule of windows
// (machines that go down together, from `start` for `duration`); every
// machine in it is DRAINING: offers of its agents carry the window as
// `unavailability`, and frameworks using it get inverse offers, which they
// may accept or decline. START_MAINTENANCE brings DRAINING machines DOWN
// (their agents are removed and may not register); STOP_MAINTENANCE brings
// them UP again and out of the schedule.
//
//   UP ──(in a schedule)──> DRAINING ──START_MAINTENANCE──> DOWN ──STOP_MAINTENANCE──> UP
//      <─(out of the schedule)─┘
//
// A machine is named by hostname and/or IP; an agent is on a machine when
// every part the machine names matches (hostnames without regard to case).

export interface MachineId {
  readonly hostname: string;
  readonly ip: string;
}

export interface MaintenanceWindow {
  readonly machines: readonly MachineId[];
  /** Seconds since the epoch. */
  readonly start: number;
  /** Seconds; null: indefinitely. */
  readonly duration: number | null;
}

export type InverseOfferAnswer = 'UNKNOWN' | 'ACCEPT' | 'DECLINE';

export interface InverseOfferRecord {
  readonly id: string;
  readonly frameworkId: string;
  readonly agentId: string;
  readonly machine: string;
}

export const machineKey = (m: MachineId): string => `${m.hostname.toLowerCase()}|${m.ip}`;

/** True when the agent at `hostname` / `ip` is on machine `m`. */
export function onMachine(m: MachineId, hostname: string, ip: string): boolean {
  if (!m.hostname && !m.ip) return false;
  return (!m.hostname || m.hostname.toLowerCase() === hostname.toLowerCase()) && (!m.ip || m.ip === ip);
}

export class Maintenance {
  windows: readonly MaintenanceWindow[] = [];
  down: readonly MachineId[] = [];
  /** Inverse offers sent and not yet answered, by id. */
  readonly inverseOffers = new Map<string, InverseOfferRecord>();
  /** What frameworks answered, by machine key then framework id. */
  readonly answers = new Map<string, Map<string, { readonly status: InverseOfferAnswer; readonly timestamp: number }>>();

  /** The window (and the machine in it) an agent at `hostname` / `ip` is in, if any. */
  windowOf(hostname: string, ip: string): { window: MaintenanceWindow; machine: MachineId } | undefined {
    for (const window of this.windows) {
      const machine = window.machines.find((m) => onMachine(m, hostname, ip));
      if (machine) return { window, machine };
    }
    return undefined;
  }

  isDown(hostname: string, ip: string): MachineId | undefined {
    return this.down.find((m) => onMachine(m, hostname, ip));
  }

  scheduled(m: MachineId): boolean {
    return this.windows.some((w) => w.machines.some((x) => machineKey(x) === machineKey(m)));
  }

  isDownMachine(m: MachineId): boolean {
    return this.down.some((x) => machineKey(x) === machineKey(m));
  }
}

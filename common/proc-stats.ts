// CPU seconds and resident memory of a process, from Linux's /proc: fields
// 14 and 15 of /proc/PID/stat (utime, stime, in clock ticks of 1/100 s on
// Linux), VmRSS in /proc/PID/status and the main thread's run-queue wait in
// /proc/PID/schedstat. Null once the process is gone.
//
// StartWatch judges a starting process by the time it had the machine: on
// this shared 2-core machine, at a load average of 35-50, a master or agent
// takes 15-30 s of wall time to answer /health, 90% of it with its main
// thread waiting for a CPU (about 1 s of it running), so a wall-clock limit
// killed starts that were progressing, and every retry began again from
// nothing. A start blocked on something else (a peer that never answers)
// waits in no run queue, and still fails at the limit.
import { readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100;

export interface ProcSample {
  readonly cpuSeconds: number;
  readonly rssMb: number;
  /** Seconds its main thread was runnable but waiting for a CPU (/proc/PID/schedstat, field 2): time the machine, not the process, cost it. */
  readonly runQueueSeconds: number;
}

export function procSample(pid: number): ProcSample | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssKb = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0);
    const schedstat = readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ');
    return { cpuSeconds: ticks / TICKS_PER_SECOND, rssMb: rssKb / 1024, runQueueSeconds: Number(schedstat[1] ?? 0) / 1e9 };
  } catch {
    return null;
  }
}

/** CPU seconds of several processes together (those still alive, or their last sample). */
export class CpuMeter {
  private readonly last = new Map<number, number>();

  constructor(private readonly pids: () => readonly number[]) {}

  /** Samples every process now; returns the sum of their CPU seconds so far. */
  total(): number {
    for (const pid of this.pids()) {
      const s = procSample(pid);
      if (s) this.last.set(pid, s.cpuSeconds);
    }
    let sum = 0;
    for (const v of this.last.values()) sum += v;
    return sum;
  }
}

/** The time a starting process had: wall time since it started, less its main thread's wait for a CPU. */
export class StartWatch {
  private readonly startedAt: number;
  private readonly firstWait: number;
  private last: ProcSample | null;

  constructor(private readonly pid: number, private readonly now: () => number = Date.now) {
    this.startedAt = now();
    this.last = procSample(pid);
    this.firstWait = this.last?.runQueueSeconds ?? 0;
  }

  wallMs(): number {
    return this.now() - this.startedAt;
  }

  /** Wall time less the run-queue wait (the last sample's, once the process is gone). */
  ownMs(): number {
    this.last = procSample(this.pid) ?? this.last;
    return this.wallMs() - ((this.last?.runQueueSeconds ?? this.firstWait) - this.firstWait) * 1000;
  }

  /** "after 41.2 s (38.0 s waiting for a CPU, 1.1 s of CPU; load average 45.10)". */
  describe(): string {
    const own = this.ownMs();
    const wall = this.wallMs();
    const cpu = this.last ? `, ${this.last.cpuSeconds.toFixed(1)} s of CPU` : '';
    return `after ${(wall / 1000).toFixed(1)} s (${((wall - own) / 1000).toFixed(1)} s waiting for a CPU${cpu}; load average ${loadAverage()})`;
  }
}

function loadAverage(): string {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ')[0] ?? '?';
  } catch {
    return '?';
  }
}

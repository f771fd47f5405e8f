// CPU seconds and resident memory of a process, from Linux's /proc: fields
// 14 and 15 of /proc/PID/stat (utime, stime, in clock ticks of 1/100 s on
// Linux), VmRSS in /proc/PID/status and the main thread's run-queue wait in
// /proc/PID/schedstat. Null once the process is gone.
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

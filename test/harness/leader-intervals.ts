// Who accepted calls as leader, and when, from the masters' own logs: a master
// run with --log_accepted_calls logs an `accepted call` line (its election
// term, the wall time in ms and, from masters that log it, the machine's
// monotonic time in ms, which a jump of one master's wall clock does not
// move) for every call it accepts as leader. Per master
// process and term, the first and last such call make an interval; two
// intervals that overlap are two leaders acting at once. Pure, so the
// multi-host tests and the fault run's checker share it.

/** One `accepted call` line of a master's log. */
export interface AcceptedCall {
  readonly master: string;
  readonly term: number;
  /** Monotonic ms (mono_ms) when the line has it, wall-clock ms otherwise: one clock for every master of a run. */
  readonly atMs: number;
}

/** The span over which one master, in one term, accepted calls. */
export interface LeaderInterval {
  readonly master: string;
  readonly term: number;
  readonly firstMs: number;
  readonly lastMs: number;
  readonly calls: number;
}

/** The accepted calls among a master's log lines (JSON lines; others are skipped). */
export function acceptedCallsIn(master: string, lines: readonly string[]): AcceptedCall[] {
  return lines.flatMap((line) => {
    if (!line.includes('"accepted call"')) return [];
    try {
      const r = JSON.parse(line) as { term: number; at_ms: number; mono_ms?: number };
      return [{ master, term: r.term, atMs: r.mono_ms ?? r.at_ms }];
    } catch {
      return []; // The last line of a master SIGKILLed while writing it.
    }
  });
}

/** Per master and term, the first and last call accepted, in order of the first. */
export function leaderIntervals(calls: readonly AcceptedCall[]): LeaderInterval[] {
  const by = new Map<string, { master: string; term: number; firstMs: number; lastMs: number; calls: number }>();
  for (const c of calls) {
    const key = `${c.master}/${c.term}`;
    const i = by.get(key) ?? { master: c.master, term: c.term, firstMs: c.atMs, lastMs: c.atMs, calls: 0 };
    i.firstMs = Math.min(i.firstMs, c.atMs);
    i.lastMs = Math.max(i.lastMs, c.atMs);
    i.calls++;
    by.set(key, i);
  }
  return [...by.values()].sort((a, b) => a.firstMs - b.firstMs);
}

/** Intervals that overlap (two leaders accepting calls at the same time): pairs of the sorted intervals, empty when none. */
export function overlaps(intervals: readonly LeaderInterval[]): [LeaderInterval, LeaderInterval][] {
  const found: [LeaderInterval, LeaderInterval][] = [];
  for (let i = 0; i < intervals.length; i++) {
    for (let j = i + 1; j < intervals.length; j++) {
      const [a, b] = [intervals[i]!, intervals[j]!];
      if (a.firstMs <= b.lastMs && b.firstMs <= a.lastMs) found.push([a, b]);
    }
  }
  return found;
}

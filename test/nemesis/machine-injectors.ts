// The faults of the machine under a process, on hosts (machines.ts): an
// agent's Docker engine stopped and started again, with live-restore (its
// containers keep running; the agent must take them back) or without (the
// engine stops them; each task must get a terminal update), an agent's
// work_dir tmpfs filled to the last byte while it has writes to make
// (disk-injector.ts), and a master's or agent's wall
// clock jumped minutes forward or back. The choices are pure functions of
// the injector's random draws (unit-tested); the plumbing acts on the cluster.
import type { NemesisCluster } from './cluster.js';
import { pick, TASK_WAIT_MS, type Injector } from './injectors.js';
import { engineSlot } from './machines.js';
import { fillDiskInjector } from './disk-injector.js';
import { waitUntil } from '../harness/wait-until.js';

/** An agent's engine as the choice sees it. */
export interface EngineChoice {
  readonly slot: string;
  readonly liveRestore: boolean;
  readonly running: boolean;
}

/** A running engine of the wanted mode, or undefined when there is none. */
export function chooseEngine(engines: readonly EngineChoice[], liveRestore: boolean, random: () => number): string | undefined {
  return pick(engines.filter((e) => e.running && e.liveRestore === liveRestore), random)?.slot;
}

/** Wall-clock jumps: 1 to 10 minutes, forward or back, in whole seconds. */
export const JUMP_RANGE_S = { min: 60, max: 600 } as const;

/** A jump in seconds, its sign and size drawn: within ±[JUMP_RANGE_S.min, JUMP_RANGE_S.max]. */
export function drawJump(random: () => number): number {
  const sign = random() < 0.5 ? -1 : 1;
  return sign * Math.round(JUMP_RANGE_S.min + random() * (JUMP_RANGE_S.max - JUMP_RANGE_S.min));
}

/** The process whose clock jumps: the leader half the time (when one leads), any live master or agent otherwise. */
export function chooseClockTarget(live: readonly string[], leader: string | null, random: () => number): string | undefined {
  const wantLeader = random() < 0.5;
  return wantLeader && leader !== null ? leader : pick(live, random);
}


const describeJump = (slot: string, seconds: number) => `jump ${slot}'s wall clock ${Math.floor(Math.abs(seconds) / 60)} min ${Math.abs(seconds) % 60} s ${seconds > 0 ? 'forward' : 'back'}`;

/**
 * An agent's engine stopped (SIGTERM) and, on heal, started again on its directories. The fault names the tasks
 * whose containers ran on it at the stop: without live-restore the engine stops them, and each must get a terminal
 * update; with it they must keep running.
 */
export function engineRestartInjector(cluster: NemesisCluster, liveRestore: boolean): Injector {
  const name = liveRestore ? 'restart-engine-live-restore' : 'restart-engine';
  let stopped: string | null = null;
  return {
    name,
    async inject(random) {
      const engines = [...cluster.machines.engines].map(([slot, e]) => ({ slot, liveRestore: e.liveRestore, running: e.engine.running() }));
      const slot = chooseEngine(engines, liveRestore, random);
      if (!slot) return null;
      const { engine } = cluster.machines.engines.get(slot)!;
      // A stop that ends no task proves nothing: wait a little for one to run there (the load keeps launching).
      let tasks: string[] = [];
      await waitUntil(async () => (tasks = [...(await cluster.runningTasksOn(slot)).keys()]).length > 0, TASK_WAIT_MS, 'a task on the engine').catch(() => {});
      stopped = slot;
      await engine.terminate();
      const mode = liveRestore ? 'with live-restore: its containers keep running' : 'without live-restore: it stops its containers';
      return { kind: name, target: slot, description: `stop ${slot}'s Docker engine (${tasks.length} task containers running) ${mode}`, tasks };
    },
    async heal() {
      const slot = stopped;
      stopped = null;
      if (slot !== null) await cluster.machines.restartEngine(slot);
    },
    holding: () => new Set(stopped === null ? [] : [engineSlot(stopped)]),
  };
}

/**
 * How far from the real time the process at `httpAddress` says it is, in whole seconds, from the Date header of
 * its /health answer (Node writes it from the wall clock); null when it does not answer within `ms`.
 */
export async function clockSkewOf(httpAddress: string, expected: number, ms = 3000): Promise<number | null> {
  const until = Date.now() + ms;
  let skew: number | null = null;
  while (Date.now() < until) {
    const res = await fetch(`http://${httpAddress}/health`, { signal: AbortSignal.timeout(1000) }).catch(() => null);
    await res?.body?.cancel();
    const date = res?.headers.get('date');
    if (date) skew = Math.round((Date.parse(date) - Date.now()) / 1000);
    if (skew !== null && Math.abs(skew - expected) <= 2) return skew;
    await new Promise((r) => setTimeout(r, 200));
  }
  return skew;
}

/**
 * A master's or agent's wall clock jumped 1-10 minutes forward or back (libfaketime); heal jumps it back to the real
 * time. The description says whether the process's HTTP Date header showed the jump (a frozen or busy one may not answer).
 */
export function clockJumpInjector(cluster: NemesisCluster): Injector {
  let jumped: string | null = null;
  return {
    name: 'jump-clock',
    async inject(random) {
      const live = [...cluster.masters, ...cluster.agents].filter(([, p]) => p.alive()).map(([slot]) => slot);
      const slot = chooseClockTarget(live, (await cluster.leader())?.name ?? null, random);
      if (!slot) return null;
      const seconds = drawJump(random);
      cluster.machines.setClockOffset(slot, seconds);
      jumped = slot;
      const proc = cluster.masters.get(slot) ?? cluster.agents.get(slot)!;
      const skew = await clockSkewOf(proc.httpAddress, seconds);
      const seen = skew === null ? 'not seen: no answer' : `its HTTP Date header ${skew > 0 ? '+' : ''}${skew} s off the real time`;
      return { kind: 'jump-clock', target: slot, description: `${describeJump(slot, seconds)} (${seen})` };
    },
    async heal() {
      if (jumped !== null) cluster.machines.setClockOffset(jumped, 0);
      jumped = null;
    },
    holding: () => new Set(),
  };
}

/** The machine faults of a cluster on hosts; the clock's only where libfaketime is installed. */
export function machineInjectors(cluster: NemesisCluster, clockJumps: boolean): Injector[] {
  return [
    engineRestartInjector(cluster, false), engineRestartInjector(cluster, true), fillDiskInjector(cluster),
    ...(clockJumps ? [clockJumpInjector(cluster)] : []),
  ];
}

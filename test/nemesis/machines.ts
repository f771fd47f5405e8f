// What a fault run on hosts gives each process beyond its network namespace,
// so that the machine under it can fail: each agent a Docker engine of its
// own on its host (live-restore on odd agents, off on even ones) and its
// work_dir on a small tmpfs; each master and agent a wall clock that can
// jump, through libfaketime (LD_PRELOAD, Debian's `faketime` package): the
// process reads its offset from a file of its own, looked at on every read
// (FAKETIME_NO_CACHE=1; with FAKETIME_CACHE_DURATION a second jump was not
// seen here), and its monotonic clocks (performance.now(), process.hrtime)
// stay real (FAKETIME_DONT_FAKE_MONOTONIC=1: faked too, a jump back aborts
// Node on libuv's "now >= timer_base" assertion). Engines, pids and mounts
// are recorded with the host network, so a sweep after a crash removes them.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DockerEngine } from '../harness/docker-engine.js';
import type { Host, HostNetwork } from '../harness/hosts.js';

/** Each agent's work_dir tmpfs: room for its checkpoints and sandboxes, small enough to fill in a moment. */
export const WORK_DIR_MIB = 16;

const ARCH: Readonly<Record<string, string>> = { x64: 'x86_64', arm64: 'aarch64' };
/** libfaketime as Debian installs it, or null when the package is missing. */
export const FAKETIME_LIB = ((path) => (existsSync(path) ? path : null))(`/usr/lib/${ARCH[process.arch] ?? process.arch}-linux-gnu/faketime/libfaketime.so.1`);

/** The slot name of an agent's engine, as an injector's `holding()` names it while a fault keeps it down. */
export const engineSlot = (agent: string) => `engine:${agent}`;

/** An agent's engine, with the mode it runs in. */
export interface AgentEngine {
  readonly engine: DockerEngine;
  readonly liveRestore: boolean;
  readonly host: Host;
}

export class Machines {
  readonly engines = new Map<string, AgentEngine>();
  private readonly mounts: string[] = [];

  /** `clockDir` holds one offset file per process slot. */
  constructor(private readonly net: HostNetwork, private readonly clockDir: string) {
    mkdirSync(clockDir, { recursive: true });
  }

  /** A Docker engine on the agent's host: with --live-restore for odd agents (agent-1, agent-3), without for even ones. */
  async startEngine(slot: string, host: Host): Promise<AgentEngine> {
    const liveRestore = Number(slot.replace(/\D/g, '')) % 2 === 1;
    const engine = await DockerEngine.start({ liveRestore, netns: `/var/run/netns/${host.netns}` });
    this.net.trackEngineDir(engine.dir);
    host.track(engine.enginePid!);
    const entry = { engine, liveRestore, host };
    this.engines.set(slot, entry);
    return entry;
  }

  /** Starts a stopped engine again on its directories (the agent's containers come back with live-restore). */
  async restartEngine(slot: string): Promise<void> {
    const { engine, host } = this.engines.get(slot)!;
    await engine.restart();
    host.track(engine.enginePid!);
  }

  /** Mounts a tmpfs of WORK_DIR_MIB at `path` (an agent's work_dir), recorded for the sweeper. */
  mountWorkDir(path: string): void {
    mkdirSync(path, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${WORK_DIR_MIB}m`, 'tmpfs', path]);
    this.net.trackMount(path);
    this.mounts.push(path);
  }

  /** The environment that gives a process a wall clock jumps move; empty when libfaketime is not installed. */
  clockEnv(slot: string): Record<string, string> {
    if (!FAKETIME_LIB) return {};
    const file = this.clockFile(slot);
    if (!existsSync(file)) writeFileSync(file, '+0\n');
    return { LD_PRELOAD: FAKETIME_LIB, FAKETIME_TIMESTAMP_FILE: file, FAKETIME_NO_CACHE: '1', FAKETIME_DONT_FAKE_MONOTONIC: '1' };
  }

  /** Sets a process's wall clock `seconds` away from the real one (0: back to it), from its next read on. */
  setClockOffset(slot: string, seconds: number): void {
    writeFileSync(this.clockFile(slot), `${seconds >= 0 ? '+' : ''}${Math.round(seconds)}\n`);
  }

  /** Stops every engine (removing its containers) and unmounts the work_dirs; the processes must be stopped first. */
  async stop(): Promise<void> {
    await Promise.all([...this.engines.values()].map((e) => e.engine.stop().catch(() => {})));
    for (const path of this.mounts.splice(0)) {
      try {
        execFileSync('umount', ['-l', path]);
      } catch {
        // Not mounted any more.
      }
    }
  }

  private clockFile(slot: string): string {
    return join(this.clockDir, `${slot}.offset`);
  }
}

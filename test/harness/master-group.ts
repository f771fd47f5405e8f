// In-process masters electing a leader in one ZooKeeper path, for tests of
// what survives a change of leader: add standbys, find the leader, make it
// leave (as when its process dies: its session closes) and get its successor.
import { startMaster, type RunningMaster } from '../../master/main.js';
import type { MasterFlags } from '../../master/main.js';
import { waitUntil } from './wait-until.js';

export class MasterGroup {
  readonly masters: RunningMaster[] = [];

  /** `flags` for every master; port, grpc_port and zk are set here. */
  constructor(
    private readonly zkUrl: string,
    private readonly flags: Partial<MasterFlags>,
    private readonly log: (line: string) => void,
  ) {}

  async add(): Promise<RunningMaster> {
    const m = await startMaster({ ...this.flags, port: 0, grpc_port: 0, zk: this.zkUrl }, this.log);
    this.masters.push(m);
    return m;
  }

  async leader(): Promise<RunningMaster> {
    let found: RunningMaster | undefined;
    await waitUntil(() => (found = this.masters.find((m) => m.leading())) !== undefined, 15_000, 'a leading master');
    return found!;
  }

  /** The leader leaves; returns it and its successor once that leads. */
  async failOver(): Promise<{ old: RunningMaster; next: RunningMaster }> {
    const old = await this.leader();
    await old.stop();
    this.masters.splice(this.masters.indexOf(old), 1);
    return { old, next: await this.leader() };
  }

  async stopAll(): Promise<void> {
    for (const m of this.masters.splice(0)) await m.stop().catch(() => {});
  }
}

// Vitest's global setup: removes this run's lane locks (lanes.ts) at its end.
// Workers name the run by their parent's pid, which is this process's.
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function laneRun(): () => void {
  return () => rmSync(join(tmpdir(), `mesos-ts-lanes-${process.pid}`), { recursive: true, force: true });
}

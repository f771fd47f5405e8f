// Top self-time functions of a V8 .cpuprofile (node --cpu-prof): each
// sample's time is charged to the node it landed in, summed by function
// name and location. Idle time is left out; shares are of the busy time.
import { readFileSync } from 'node:fs';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
}
interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface SelfTime {
  readonly fn: string;
  readonly ms: number;
  /** Of the time the process was not idle. */
  readonly share: number;
  /** Of the whole profile, idle included. */
  readonly ofWall: number;
}

export function topSelfTime(file: string, count = 15): SelfTime[] {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let total = 0;
  let busy = 0;
  p.samples.forEach((id, i) => {
    const f = byId.get(id)?.callFrame;
    const dt = (p.timeDeltas[i] ?? 0) / 1000;
    total += dt;
    if (!f || f.functionName === '(idle)') return;
    busy += dt;
    const where = f.url ? `${f.url.replace(/^file:\/\/.*?\/(dist|node_modules)\//, '$1/')}:${f.lineNumber + 1}` : '';
    const key = `${f.functionName || '(anonymous)'}${where ? ` ${where}` : ''}`;
    self.set(key, (self.get(key) ?? 0) + dt);
  });
  return [...self].sort((a, b) => b[1] - a[1]).slice(0, count).map(([fn, ms]) => ({ fn, ms, share: busy ? ms / busy : 0, ofWall: total ? ms / total : 0 }));
}

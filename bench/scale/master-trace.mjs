// Preloaded into the harness's masters (`node --import`) when the run traces
// its tasks: writes the master's launch-trace hops (common/launch-trace.ts)
// of the traced tasks to SCALE_TRACE_FILE, one `taskId<TAB>hop<TAB>wall ms`
// line each, so the harness can join them with what its agents and
// schedulers saw. Without this preload nothing listens on the channel and
// each hop in the master costs one boolean check. Plain JavaScript: the
// master runs from dist/, without a TypeScript loader.
import { appendFileSync } from 'node:fs';
import { onLaunchHop } from '../../dist/common/launch-trace.js';

const file = process.env.SCALE_TRACE_FILE;
// The harness traces tasks whose id ends in a number divisible by 10 (ipc.ts, TRACE_EVERY).
const match = new RegExp(process.env.SCALE_TRACE_MATCH ?? '0$');
if (file) {
  const origin = performance.timeOrigin;
  let lines = [];
  const flush = () => {
    if (lines.length > 0) appendFileSync(file, lines.join(''));
    lines = [];
  };
  setInterval(flush, 200).unref();
  process.once('exit', flush);
  onLaunchHop(({ taskId, hop, at }) => {
    if (match.test(taskId)) lines.push(`${taskId}\t${hop}\t${(origin + at).toFixed(3)}\n`);
  });
}

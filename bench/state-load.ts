// bench/state --load: does polling /master/state and GET_STATE hold back the
// master's other work? The master (in this process, real HTTP server) applies
// agent status updates through its real path (Master.agentMessage) as fast
// as its event loop allows, in small batches, for `seconds`: once alone,
// once while a poller in a child process (so that receiving the answers
// costs the master nothing) sends one state request at a time every
// `sampleMs`, /master/state and GET_STATE in turn (as bench/scale's sampler
// does).
// Every update changes the master, so every request finds the state changed.
// Printed: updates applied per second in each phase and their ratio, the
// event loop's delay p99/max, and the state requests' latency.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { spawn } from 'node:child_process';
import type { RunningMaster } from '../master/main.js';

export interface LoadOptions {
  readonly seconds: number;
  readonly sampleMs: number;
  /** Status updates applied per event-loop turn. */
  readonly batch: number;
}

export interface PhaseResult {
  readonly updatesPerSecond: number;
  readonly loopP99Ms: number;
  readonly loopMaxMs: number;
  readonly stateMs: number[];
  readonly getStateMs: number[];
}

/** (agentId, frameworkId, taskId) of the tasks the updates are about. */
export type TaskRef = readonly [string, string, string];

export async function loadPhase(running: RunningMaster, tasks: readonly TaskRef[], options: LoadOptions, poll: boolean): Promise<PhaseResult> {
  const master = running.master;
  const loop = monitorEventLoopDelay({ resolution: 10 });
  const stateMs: number[] = [];
  const getStateMs: number[] = [];
  let applied = 0;
  let running_ = true;
  const started = performance.now();
  loop.enable();
  const work = new Promise<void>((resolve) => {
    const turn = () => {
      if (!running_) return resolve();
      for (let i = 0; i < options.batch; i++) {
        const [agentId, frameworkId, taskId] = tasks[applied % tasks.length]!;
        master.agentMessage(agentId, {
          kind: 'status_update',
          status_update: {
            framework_id: { value: frameworkId },
            status: { task_id: { value: taskId }, agent_id: { value: agentId }, state: 'TASK_RUNNING', source: 'SOURCE_EXECUTOR', uuid: uuidOf(applied), timestamp: Date.now() / 1000 },
          },
        } as never);
        applied++;
      }
      setImmediate(turn);
    };
    setImmediate(turn);
  });
  const poller = poll ? startPoller(running.httpAddress, options) : null;
  await new Promise((r) => setTimeout(r, options.seconds * 1000));
  running_ = false;
  const [, polled] = await Promise.all([work, poller]);
  stateMs.push(...(polled?.state ?? []));
  getStateMs.push(...(polled?.getState ?? []));
  loop.disable();
  const ms = (ns: number) => Math.max(0, ns / 1e6 - 10);
  return {
    updatesPerSecond: applied / ((performance.now() - started) / 1000),
    loopP99Ms: ms(loop.percentile(99)), loopMaxMs: ms(loop.max), stateMs, getStateMs,
  };
}

/** A distinct 16-byte uuid per update, without the cost of random bytes. */
function uuidOf(n: number): Buffer {
  const uuid = Buffer.alloc(16);
  uuid.writeUInt32BE(n >>> 0, 12);
  return uuid;
}

/** Sequential requests every sampleMs for `seconds`, from a child process; resolves with the latencies it measured. */
const POLLER = `
const [address, sampleMs, seconds] = process.argv.slice(1);
const out = { state: [], getState: [] };
const end = Date.now() + seconds * 1000;
for (let i = 0; Date.now() < end; i++) {
  const next = performance.now() + Number(sampleMs);
  const t0 = performance.now();
  if (i % 2 === 0) {
    await (await fetch('http://' + address + '/master/state')).arrayBuffer();
    out.state.push(performance.now() - t0);
  } else {
    await (await fetch('http://' + address + '/api/v1', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"type":"GET_STATE"}' })).arrayBuffer();
    out.getState.push(performance.now() - t0);
  }
  const wait = next - performance.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
}
process.stdout.write(JSON.stringify(out));
`;

function startPoller(address: string, options: LoadOptions): Promise<{ state: number[]; getState: number[] }> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', POLLER, address, String(options.sampleMs), String(options.seconds)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let text = '';
  child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(text) as { state: number[]; getState: number[] }) : reject(new Error(`the poller exited with ${code}`))));
  });
}

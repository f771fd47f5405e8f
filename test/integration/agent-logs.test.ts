// Sandboxes and logs with a real master, agent and containers: output is
// rotated by size, read over the agent's /files/read (and nothing outside the
// sandboxes is), `mesos-ts logs` finds a task's output through the master
// (and follows it), and a finished task's sandbox goes after --gc_delay.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startMaster, type RunningMaster } from '../../master/main.js';
import { startAgent, type RunningAgent } from '../../agent/main.js';
import { RawScheduler, commandTask, isUpdate } from '../harness/grpc-scheduler.js';
import { removeContainersUnder } from '../harness/cluster.js';
import { waitUntil } from '../harness/wait-until.js';
import type { OfferOut } from '../../proto/index.js';

const run = promisify(execFile);
const base = mkdtempSync(join(tmpdir(), 'mesos-ts-logs-'));
let master: RunningMaster;
let agent: RunningAgent;
let s: RawScheduler;

beforeAll(async () => {
  master = await startMaster({ port: 0, grpc_port: 0, allocation_interval: 0.1 }, () => {});
  agent = await startAgent({
    master: master.grpcAddress, port: 0, work_dir: join(base, 'agent'), resources: 'cpus:2;mem:512;disk:10;ports:[31960-31969]',
    docker_pull: 'never', kill_grace_period: 1, status_update_retry_interval: 1, sandbox_log_max_size: '1KB', sandbox_log_rotations: 2,
    gc_delay: 5, log: () => {}, // gc_delay leaves time for two CLI runs after the task ends, on a loaded machine too.
  });
  await waitUntil(() => agent.agentId() !== null, 15_000, 'the agent to register');
  s = new RawScheduler(master.grpcAddress);
  s.autoAcknowledge = true;
  await s.subscribe({ name: 'logs', user: 'root' });
}, 60_000);

afterAll(async () => {
  s?.close();
  await agent?.stop({ killTasks: true });
  await master?.stop();
  await removeContainersUnder(base);
  rmSync(base, { recursive: true, force: true });
});

const used = new Set<string>();

async function launch(taskId: string, command: string): Promise<void> {
  const e = await s.next((ev) => ev.type === 'OFFERS' && ev.offers!.offers.some((o) => !used.has(o.id!.value)));
  const offer = e.offers!.offers.find((o) => !used.has(o.id!.value)) as OfferOut;
  used.add(offer.id!.value);
  await s.launch(offer, [commandTask(taskId, offer, command, 'cpus:0.1;mem:32')]);
}

const sandbox = (taskId: string) => join(agent.workDir, 'sandboxes', s.frameworkId, taskId);
const PRINT_200 = 'i=0; while [ $i -lt 200 ]; do echo "line-$i-................................"; i=$((i+1)); done';

describe('sandboxes and logs', () => {
  it('rotates a task\'s stdout by size, keeping the configured number of files, in order', async () => {
    await launch('chatty', `${PRINT_200}; sleep 3600`);
    await s.next(isUpdate('chatty', 'TASK_RUNNING'));
    const dir = sandbox('chatty');
    await waitUntil(() => existsSync(join(dir, 'stdout.2')) && readFileSync(join(dir, 'stdout'), 'utf8').includes('line-199-'), 15_000, 'the output to be written and rotated');
    expect(existsSync(join(dir, 'stdout.3'))).toBe(false);
    for (const f of ['stdout', 'stdout.1', 'stdout.2']) expect(statSync(join(dir, f)).size).toBeLessThanOrEqual(1024);
    const kept = ['stdout.2', 'stdout.1', 'stdout'].map((f) => readFileSync(join(dir, f), 'utf8')).join('');
    const numbers = [...kept.matchAll(/line-(\d+)-/g)].map((m) => Number(m[1]));
    expect(numbers.at(-1)).toBe(199);
    expect(numbers).toEqual(numbers.map((_, i) => numbers[0]! + i)); // Consecutive: nothing lost or reordered.
  });

  it('serves sandbox files over /files/read, and nothing outside the sandboxes', async () => {
    const path = join(sandbox('chatty'), 'stdout');
    const read = async (query: string) => fetch(`http://${agent.httpAddress}/files/read?${query}`);
    const size = (await (await read(`path=${encodeURIComponent(path)}&offset=-1`)).json()) as { offset: number };
    expect(size.offset).toBe(statSync(path).size);
    const slice = (await (await read(`path=${encodeURIComponent(path)}&offset=0&length=10`)).json()) as { data: string; offset: number };
    expect(slice).toEqual({ data: readFileSync(path, 'utf8').slice(0, 10), offset: 0 });
    expect((await read(`path=${encodeURIComponent('/etc/passwd')}`)).status).toBe(404); // Under no sandbox: this agent has no such file (as Mesos answers).
    expect((await read(`path=${encodeURIComponent(join(sandbox('chatty'), '..', '..', '..', 'meta', 'agent.json'))}`)).status).toBe(404); // Resolved before it is sent: under no sandbox.
    expect((await read(`path=${encodeURIComponent(join(sandbox('chatty'), 'nope'))}`)).status).toBe(404);
    expect((await read('offset=0')).status).toBe(400);
    expect((await read(`path=${encodeURIComponent(path)}&offset=abc`)).status).toBe(400);
  });

  it('`mesos-ts logs` prints a task\'s output found through the master, and --follow prints until the task ends', async () => {
    const cli = (...args: string[]) => run(process.execPath, ['bin/mesos-ts.js', 'logs', ...args, `--master=${master.httpAddress}`], { timeout: 30_000 });
    const tail = await cli('chatty', '--tail=100');
    expect(tail.stdout.length).toBeLessThanOrEqual(100);
    expect(tail.stdout).toMatch(/line-199-\.+\n$/);

    await launch('ticking', 'for i in 1 2 3 4 5; do echo tick-$i; sleep 0.4; done; echo oops >&2');
    await s.next(isUpdate('ticking', 'TASK_STARTING'));
    const followed = await cli('ticking', '--follow');
    expect(followed.stdout).toBe('tick-1\ntick-2\ntick-3\ntick-4\ntick-5\n');
    expect((await cli('ticking', '--stderr')).stdout).toBe('oops\n');
    const unknown = await cli('no-such-task').catch((err: { code: number; stderr: string }) => err);
    expect(unknown).toMatchObject({ code: 1 });
    expect((unknown as { stderr: string }).stderr).toContain('the master knows no task no-such-task');
  });

  it('removes a finished task\'s sandbox after --gc_delay', async () => {
    await s.next(isUpdate('ticking', 'TASK_FINISHED'));
    await waitUntil(() => !existsSync(sandbox('ticking')), 20_000, 'the finished sandbox to be collected');
    expect(existsSync(sandbox('chatty'))).toBe(true); // Still running: kept.
  });
});

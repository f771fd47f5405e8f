// `mesos-ts execute` (and so the SDK's Scheduler, BatchPlan and runBatch)
// against a real cluster: a master and two agents on loopback, tasks in
// real containers on the Docker engine.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { parseExecuteArgs, runExecute } from '../../framework/cli/execute.js';
import { startCluster, containersUnder, TEST_IMAGE, type TestCluster } from '../harness/cluster.js';

let cluster: TestCluster;
let running: TestCluster['master'];

beforeAll(async () => {
  cluster = await startCluster({
    agents: ['cpus:1;mem:256;ports:[31300-31309]', 'cpus:0.5;mem:128'],
    master: { heartbeat_interval: 0.5 },
  });
  running = cluster.master;
}, 60_000);
afterAll(async () => {
  if (process.env.DEBUG_TEST) console.error(cluster?.logs.join('\n'));
  await cluster?.stop();
  expect(await containersUnder(cluster.base)).toEqual([]);
});

async function execute(extra: string[], signal?: AbortSignal): Promise<{ code: number; out: string[]; err: string[] }> {
  const parsed = parseExecuteArgs(['--master', running.grpcAddress, '--name', 'job', '--docker_image', TEST_IMAGE, ...extra]);
  if (parsed.help) throw new Error('help');
  const out: string[] = [];
  const err: string[] = [];
  const code = await runExecute(parsed.options, { out: (l) => out.push(l), err: (l) => err.push(l), ...(signal && { signal }) });
  return { code, out, err };
}

async function frameworks(): Promise<number> {
  const state = (await (await fetch(`http://${running.httpAddress}/state`)).json()) as { frameworks: unknown[] };
  return state.frameworks.length;
}

describe('mesos-ts execute against a master', () => {
  it('runs K instances across the agents, prints each state, exits 0 and tears down', async () => {
    const { code, out } = await execute(['--command', 'echo hi', '--instances', '12', '--resources', 'cpus:0.1;mem:32', '--timeout', '60s']);
    expect(code).toBe(0);
    expect(out[0]).toMatch(/^subscribed to .* as framework .+-\d{4}$/);
    for (let i = 1; i <= 12; i++) expect(out).toContainEqual(expect.stringMatching(new RegExp(`^task job-${i} FINISHED on .+-S\\d+`)));
    expect(out.at(-1)).toBe('12 of 12 task(s) FINISHED');
    expect(await frameworks()).toBe(0);
  });

  it('exits 1 and says which tasks failed', async () => {
    const { code, err } = await execute(['--command', 'exit 3', '--instances', '2', '--timeout', '60s']);
    expect(code).toBe(1);
    // The agent's reason comes through as sent (the SDK no longer reads an absent reason as the enum's first value, nor hides this one).
    expect(err).toContainEqual(expect.stringMatching(/^ {2}task job-1 FAILED on .*: exited with status 3, REASON_COMMAND_EXECUTOR_FAILED$/));
    expect(err.at(-1)).toBe('0 of 2 task(s) FINISHED');
  });

  it('on interrupt kills its tasks, tears down and exits 130', async () => {
    const abort = new AbortController();
    const done = execute(['--command', 'sleep 60', '--instances', '2', '--timeout', '20s'], abort.signal);
    await new Promise((r) => setTimeout(r, 1500)); // launched and running
    abort.abort();
    const { code, out, err } = await done;
    expect(code).toBe(130);
    expect(out.filter((l) => / KILLED /.test(l)).length + out.filter((l) => / CANCELLED/.test(l)).length).toBe(2);
    expect(err.at(-1)).toMatch(/^interrupted: killed the tasks/);
    expect(await frameworks()).toBe(0);
  });

  it('gives up at --timeout when no offer fits, saying what it waited for', async () => {
    const t0 = Date.now();
    const { code, err } = await execute(['--command', 'true', '--resources', 'cpus:64;mem:32', '--timeout', '1s']);
    expect(code).toBe(1);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(err).toContainEqual(expect.stringMatching(/^timed out after 1 s/));
    expect(err).toContainEqual(expect.stringMatching(/1 task\(s\) never got an offer that fits cpus:64;mem:32/));
    expect(await frameworks()).toBe(0);
  });

  it('works as a command: exit status 0 when every task FINISHED, 1 when one failed', async () => {
    const run = promisify(execFile);
    const args = ['bin/mesos-ts.js', 'execute', '--master', running.grpcAddress, '--instances', '2'];
    const ok = await run(process.execPath, [...args, '--name', 'cli', '--command', 'echo from-cli'], { timeout: 60_000 });
    expect(ok.stdout).toMatch(/task cli-1 RUNNING/);
    expect(ok.stdout).toMatch(/task cli-2 FINISHED/);
    const failed = await run(process.execPath, [...args, '--name', 'clifail', '--command', 'exit 7'], { timeout: 60_000 }).then(
      () => null,
      (err: { code: number; stderr: string }) => err,
    );
    expect(failed?.code).toBe(1);
    expect(failed?.stderr).toContain('exited with status 7');
  });
});

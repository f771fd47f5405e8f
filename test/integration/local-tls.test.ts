// `mesos-ts local --ssl --masters 2` as a real process: ZooKeeper, two
// masters electing a leader, an agent following it through zk:// and the
// demo, all with mutual TLS and certificates from scripts/make-certs.sh.
// While it stays up, `mesos-ts state --master zk://...` finds the leader in
// ZooKeeper and reads it over https with the environment the run printed;
// without it, the CLI is told to use TLS. Ctrl-C then cleans everything up.
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { commandEnv, ProcessGroup, type Proc } from '../harness/processes.js';

const run = promisify(execFile);
let group: ProcessGroup | null = null;
let current: Proc | null = null;

const output = (proc: Proc) => proc.lines.join('\n').replace(/\x1b\[[0-9;]*m/g, '');

afterEach(async () => {
  await group?.stopAll();
  const zk = current && /ZooKeeper up on \S+ \(pid (\d+), data in (\S+)\)/.exec(output(current));
  if (zk) {
    try {
      process.kill(Number(zk[1]), 'SIGKILL');
    } catch {
      // Already gone, as it should be.
    }
    rmSync(dirname(zk[2]!), { recursive: true, force: true });
  }
  group = null;
  current = null;
});

async function cli(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['bin/mesos-ts.js', ...args], { env: commandEnv(env), timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe('mesos-ts local --ssl', () => {
  it('runs two masters, an agent and the demo with mutual TLS; the CLI finds the leader through ZooKeeper and reads it over https', async () => {
    group = new ProcessGroup();
    current = group.spawnCommand('local', ['local', '--ssl', '--masters', '2', '--agents', '1', '--tasks', '2', '--port', '0', '--grpc_port', '0', '--keep_running'], {
      ownProcessGroup: true,
    });
    await current.waitForLine(/cluster stays up; Ctrl-C to stop|failed: /, 90_000);
    const text = output(current);
    expect(text).toContain('all 2 tasks FINISHED');
    expect(text).toMatch(/master-1 up: gRPC \(TLS\) 127\.0\.0\.1:\d+, HTTP https:\/\/127\.0\.0\.1:\d+/);
    expect(text).toMatch(/leads: web UI at https:\/\//);
    const zk = /following the leader through (zk:\/\/[^\s;]+)/.exec(text)![1]!;
    const env = Object.fromEntries(/to use the CLI on this cluster: (.*)/.exec(text)![1]!.trim().split(' ').map((kv) => kv.split('=') as [string, string]));
    expect(Object.keys(env).sort()).toEqual(['LIBPROCESS_SSL_CA_FILE', 'LIBPROCESS_SSL_CERT_FILE', 'LIBPROCESS_SSL_ENABLED', 'LIBPROCESS_SSL_KEY_FILE']);

    const state = await cli(['state', '--master', zk], env);
    expect(state, state.stderr).toMatchObject({ code: 0 });
    expect(state.stdout).toMatch(/agents\s+1 active of 1/);
    const plain = await cli(['agents', '--master', zk], {});
    expect(plain.code).not.toBe(0);
    expect(plain.stderr).toContain('this port speaks TLS (LIBPROCESS_SSL_ENABLED); use https');

    process.kill(-current.pid, 'SIGINT');
    await current.waitForLine(/clean: |warning: /, 30_000);
    expect((await current.exited).code).toBe(0);
    expect(output(current)).toContain('clean: no container or process left behind');
  }, 150_000);
});

// `mesos-ts local` as a real process where no Docker engine answers
// (DOCKER_HOST names a socket that does not exist): by default it says so,
// naming that socket, and runs the demo on the mesos containerizer (runc);
// with --containerizer=docker it stops with that message instead.
import { afterEach, describe, expect, it } from 'vitest';
import { ProcessGroup, type Proc } from '../harness/processes.js';

let group: ProcessGroup | null = null;
const output = (proc: Proc) => proc.lines.join('\n').replace(/\x1b\[[0-9;]*m/g, '');
const NO_ENGINE = { DOCKER_HOST: 'unix:///nonexistent/docker.sock' };

afterEach(async () => {
  await group?.stopAll();
  group = null;
});

describe('mesos-ts local without a Docker engine', () => {
  it('says no engine answers at DOCKER_HOST\'s socket and runs the demo on the mesos containerizer', async () => {
    group = new ProcessGroup();
    const local = group.spawnCommand('local', ['local', '--agents', '1', '--tasks', '2', '--port', '0', '--grpc_port', '0'], { ownProcessGroup: true, env: NO_ENGINE });
    const exit = await local.exited;
    const text = output(local);
    expect(text).toContain('no Docker engine answers at /nonexistent/docker.sock: running the demo on the mesos containerizer');
    expect(text).toContain('on the mesos containerizer');
    expect(text).toContain('all 2 tasks FINISHED');
    expect(text).toContain('clean: no container or process left behind');
    expect(exit.code).toBe(0);
  }, 120_000);

  it('with --containerizer=docker, stops with a message naming that socket and starts nothing', async () => {
    group = new ProcessGroup();
    const local = group.spawnCommand('local', ['local', '--containerizer', 'docker', '--port', '0', '--grpc_port', '0'], { ownProcessGroup: true, env: NO_ENGINE });
    const exit = await local.exited;
    expect(output(local)).toContain('no Docker engine answers at /nonexistent/docker.sock; run `bash scripts/setup.sh`');
    expect(output(local)).not.toContain('agents up');
    expect(exit.code).toBe(1);
  }, 60_000);
});

// Commands configured only through the environment, as Mesos images are:
// `node bin/mesos-ts.js master`, `agent`, `execute`, `logs`, `demo`,
// `weights`, `agents` and `simulate`, each with no flag on its command line, only
// MESOS_* (master, agent) or MESOS_TS_* (our own commands) variables, one of
// them a file:// value. Each variable must take effect: the master's ports,
// work_dir and weights; the agent's master, resources and attributes; the
// tasks execute and demo run; the master the CLI commands read.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProcessGroup, commandEnv, freePort, type Proc } from '../harness/processes.js';
import { TEST_IMAGE } from '../harness/cluster.js';
import { waitUntil } from '../harness/wait-until.js';

const run = promisify(execFile);
const group = new ProcessGroup();
let master: Proc;
let agent: Proc;
let httpPort: number;
let grpcPort: number;
let agentPort: number;

interface AgentJson {
  id: string;
  hostname: string;
  port: number;
  resources: Record<string, unknown>;
  attributes: Record<string, unknown>;
}

const state = async () => (await (await fetch(`http://127.0.0.1:${httpPort}/master/state`)).json()) as { slaves: AgentJson[] };

/** A one-shot command with no flags but `args`, configured by `env`. */
async function command(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['bin/mesos-ts.js', ...args], { env: commandEnv(env), timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** Once `port` answers /health; the process's last lines when it exits first. */
async function healthy(proc: Proc, port: number): Promise<void> {
  const up = async () => (await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(1000) }).catch(() => null))?.ok === true;
  const exited = proc.exited.then((exit) => {
    throw new Error(`${proc.name} exited (${JSON.stringify(exit)}):\n${proc.lines.slice(-20).join('\n')}`);
  });
  exited.catch(() => {}); // it exits at the end too, once the race is long over
  await Promise.race([waitUntil(up, 30_000, `${proc.name} to answer /health on ${port}`), exited]);
}

beforeAll(async () => {
  httpPort = await freePort();
  do grpcPort = await freePort(); while (grpcPort === httpPort);
  const weights = join(group.dir, 'weights');
  writeFileSync(weights, 'analytics=3,dev=1\n');
  master = group.spawnCommand('master', ['master'], {
    env: {
      MESOS_IP: '127.0.0.1', MESOS_PORT: String(httpPort), MESOS_GRPC_PORT: String(grpcPort), MESOS_WORK_DIR: join(group.dir, 'master'),
      MESOS_WEIGHTS: `file://${weights}`, MESOS_ALLOCATION_INTERVAL: '100ms', MESOS_QUIET: 'false',
      // A Mesos flag mesos-ts lacks, as a Mesos image sets it: a warning, not a refusal.
      MESOS_QUORUM: '1', MESOS_NOT_A_FLAG: 'x',
    },
  });
  await healthy(master, httpPort);
  do agentPort = await freePort(); while (agentPort === httpPort || agentPort === grpcPort);
  agent = group.spawnCommand('agent', ['agent'], {
    env: {
      MESOS_MASTER: `127.0.0.1:${grpcPort}`, MESOS_IP: '127.0.0.1', MESOS_PORT: String(agentPort), MESOS_WORK_DIR: join(group.dir, 'agent'),
      MESOS_RESOURCES: 'cpus:1.5;mem:384;disk:100;ports:[31990-31999]', MESOS_ATTRIBUTES: 'rack:from-env', MESOS_DOCKER_PULL: 'never',
      MESOS_KILL_GRACE_PERIOD: '1secs', MESOS_QUIET: 'false',
    },
  });
  await healthy(agent, agentPort);
  await waitUntil(async () => (await state()).slaves.length === 1, 20_000, 'the agent to register');
}, 90_000);

afterAll(async () => {
  await group.stopAll();
}, 30_000);

describe('commands started only from MESOS_* / MESOS_TS_* variables', () => {
  it('master: MESOS_IP, MESOS_PORT, MESOS_GRPC_PORT, MESOS_WORK_DIR, MESOS_WEIGHTS=file://...; an unimplemented Mesos flag only warns', async () => {
    const flags = (await (await fetch(`http://127.0.0.1:${httpPort}/master/flags`)).json()) as { flags: Record<string, string> };
    expect(flags.flags).toMatchObject({ port: String(httpPort), grpc_port: String(grpcPort), work_dir: join(group.dir, 'master'), weights: 'analytics=3,dev=1' });
    const weights = (await (await fetch(`http://127.0.0.1:${httpPort}/master/weights`)).json()) as { role: string; weight: number }[];
    expect(weights).toContainEqual({ role: 'analytics', weight: 3 });
    await waitUntil(() => existsSync(join(group.dir, 'master', 'registry.json')), 5000, 'the registry in MESOS_WORK_DIR');
    expect(master.lines.join('\n')).toMatch(/MESOS_QUORUM ignored: --quorum is an Apache Mesos master flag that mesos-ts does not implement/);
    expect(master.lines.join('\n')).not.toMatch(/NOT_A_FLAG/);
  });

  it('agent: MESOS_MASTER, MESOS_PORT, MESOS_WORK_DIR, MESOS_RESOURCES, MESOS_ATTRIBUTES', async () => {
    const [a] = (await state()).slaves;
    expect(a).toMatchObject({ port: agentPort, resources: { cpus: 1.5, mem: 384, disk: 100, ports: '[31990-31999]' }, attributes: { rack: 'from-env' } });
    expect(existsSync(join(group.dir, 'agent'))).toBe(true);
    expect(agent.alive()).toBe(true);
  });

  it('execute: MESOS_TS_MASTER, MESOS_TS_NAME, MESOS_TS_COMMAND, MESOS_TS_INSTANCES, MESOS_TS_RESOURCES', async () => {
    const { code, stdout, stderr } = await command(['execute'], {
      MESOS_TS_MASTER: `127.0.0.1:${grpcPort}`, MESOS_TS_NAME: 'from-env', MESOS_TS_DOCKER_IMAGE: TEST_IMAGE, MESOS_TS_COMMAND: 'echo hi from env',
      MESOS_TS_INSTANCES: '2', MESOS_TS_RESOURCES: 'cpus:0.1;mem:32', MESOS_TS_TIMEOUT: '60secs',
      // A master's variable is not execute's: MESOS_MASTER must not be read.
      MESOS_MASTER: '127.0.0.1:1',
    });
    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(/task from-env-1 FINISHED/);
    expect(stdout).toMatch(/task from-env-2 FINISHED/);
    expect(stdout).toContain('2 of 2 task(s) FINISHED');
  }, 90_000);

  it('logs: MESOS_TS_MASTER, MESOS_TS_TAIL (execute\'s task, its framework torn down)', async () => {
    const { code, stdout, stderr } = await command(['logs', 'from-env-1'], { MESOS_TS_MASTER: `127.0.0.1:${httpPort}`, MESOS_TS_TAIL: '4' });
    expect(code, stderr).toBe(0);
    expect(stdout).toBe('env\n'); // the last 4 bytes of 'hi from env\n'
  }, 60_000);

  it('demo: MESOS_TS_MASTER, MESOS_TS_TASKS, MESOS_TS_QUIET', async () => {
    const { code, stdout, stderr } = await command(['demo'], { MESOS_TS_MASTER: `127.0.0.1:${grpcPort}`, MESOS_TS_TASKS: '2', MESOS_TS_QUIET: '1' });
    expect(code, stderr).toBe(0);
    expect(stdout).toContain('all 2 tasks FINISHED');
  }, 90_000);

  it('an operator command, weights: MESOS_TS_MASTER', async () => {
    const { code, stdout, stderr } = await command(['weights'], { MESOS_TS_MASTER: `127.0.0.1:${httpPort}` });
    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(/analytics\s+3/);
  }, 60_000);

  it("agents: MESOS_TS_MASTER (the master's HTTP address), MESOS_TS_JSON=true", async () => {
    const { code, stdout, stderr } = await command(['agents'], { MESOS_TS_MASTER: `127.0.0.1:${httpPort}`, MESOS_TS_JSON: 'true' });
    expect(code, stderr).toBe(0);
    const answer = JSON.parse(stdout) as { agents: { agent_info: { port: number; attributes?: { name: string }[] } }[] };
    expect(answer.agents.map((a) => a.agent_info.port)).toEqual([agentPort]);
  }, 60_000);

  it('simulate: MESOS_TS_OUT, MESOS_TS_POLICIES and the workload it generates', async () => {
    const out = join(group.dir, 'simulation');
    const { code, stdout, stderr } = await command(['simulate'], {
      MESOS_TS_OUT: out, MESOS_TS_POLICIES: 'drf', MESOS_TS_AGENTS: '2', MESOS_TS_FRAMEWORKS: '2', MESOS_TS_TASKS_PER_FRAMEWORK: '3',
      MESOS_TS_SEED: '7', MESOS_TS_QUIET: 'true',
    });
    expect(code, stderr).toBe(0);
    expect(stderr).toBe('');
    expect(stdout).toMatch(/^drf .* 6\/6 /m);
    expect(Object.keys(JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as object)).toEqual(['drf']);
  }, 60_000);

  it('a malformed value names its variable; the command line wins over it', async () => {
    const bad = await command(['agents'], { MESOS_TS_MASTER: `127.0.0.1:${httpPort}`, MESOS_TS_JSON: 'yes' });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("MESOS_TS_JSON: 'yes' is not true or false");
    const overridden = await command(['agents', '--no-json'], { MESOS_TS_MASTER: `127.0.0.1:${httpPort}`, MESOS_TS_JSON: 'yes' });
    expect(overridden.code, overridden.stderr).toBe(0);
    expect(overridden.stdout).toContain('127.0.0.1');
  }, 60_000);
});

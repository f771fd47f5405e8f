// Authentication end to end: a master with every --authenticate_* flag on
// and its --credentials in a file (file://), an agent with its --credential
// file, and `mesos-ts execute` with --principal/--secret running a real
// container task to FINISHED. The planted secret appears in no log line of
// the master or the agent, nor in /master/state, /master/flags or the
// agent's /flags.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseExecuteArgs, runExecute } from '../../framework/cli/execute.js';
import { basicAuthorization } from '../../common/credentials.js';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { commandEnv } from '../harness/processes.js';
import { startCluster, containersUnder, TEST_IMAGE, type TestCluster } from '../harness/cluster.js';

const run = promisify(execFile);
const SECRET = 'planted-Secret-e2e-90c4';
const dir = mkdtempSync(join(tmpdir(), 'mesos-ts-authn-'));
const OPERATOR = { principal: 'ops', secret: `${SECRET}-ops` };
let cluster: TestCluster;

beforeAll(async () => {
  const credentials = join(dir, 'credentials.json');
  writeFileSync(credentials, JSON.stringify({
    credentials: [{ principal: 'alice', secret: `${SECRET}-alice` }, { principal: 'agent', secret: `${SECRET}-agent` }, OPERATOR],
  }));
  const credential = join(dir, 'agent-credential');
  writeFileSync(credential, `agent ${SECRET}-agent\n`);
  cluster = await startCluster({
    agents: ['cpus:1;mem:256'],
    master: {
      credentials: `file://${credentials}`, authenticate_frameworks: true, authenticate_agents: true,
      authenticate_http_frameworks: true, authenticate_http_readwrite: true, authenticate_http_readonly: true,
    },
    agent: { credential },
  });
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
  if (cluster) expect(await containersUnder(cluster.base)).toEqual([]);
  rmSync(dir, { recursive: true, force: true });
});

async function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run('node', ['bin/mesos-ts.js', ...args], { env: commandEnv(env), timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe('a cluster with authentication on', () => {
  it('the agent registered with its credential; execute with --principal/--secret runs a task to FINISHED', async () => {
    expect(cluster.agents[0]!.agentId()).not.toBeNull();
    const parsed = parseExecuteArgs([
      '--master', cluster.master.grpcAddress, '--name', 'authn', '--docker_image', TEST_IMAGE, '--command', 'echo authenticated',
      '--principal', 'alice', '--secret', `${SECRET}-alice`, '--timeout', '60s',
    ]);
    if (parsed.help) throw new Error('help');
    const out: string[] = [];
    const err: string[] = [];
    const code = await runExecute(parsed.options, { out: (l) => out.push(l), err: (l) => err.push(l) });
    expect({ code, err }).toEqual({ code: 0, err: [] });
    expect(out).toContainEqual(expect.stringMatching(/^task authn-1 FINISHED on /));
  }, 90_000);

  it('execute with a wrong secret does not get in, and gives up at once (retrying cannot help)', async () => {
    const parsed = parseExecuteArgs([
      '--master', cluster.master.grpcAddress, '--name', 'intruder', '--docker_image', TEST_IMAGE, '--command', 'true',
      '--principal', 'alice', '--secret', 'guess', '--timeout', '60s',
    ]);
    if (parsed.help) throw new Error('help');
    const err: string[] = [];
    const code = await runExecute(parsed.options, { out: () => {}, err: (l) => err.push(l) });
    expect(code).not.toBe(0);
    expect(err.join('\n')).toMatch(/authentication failed/);
    expect(cluster.master.master.frameworks.size).toBe(0);
  }, 10_000);

  it('the CLI presents --principal/--secret (or MESOS_TS_* variables): execute runs a task, the operator commands read and write', async () => {
    const master = cluster.master.httpAddress;
    const refused = await cli(['weights', '--master', master]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/401/);
    expect((await cli(['weights', '--master', master, 'authn=2', '--principal', 'ops', '--secret', OPERATOR.secret])).code).toBe(0);
    expect(cluster.master.master.state.weights.get('authn')).toBe(2);
    expect((await cli(['agents', '--master', master, '--principal', 'ops', '--secret', OPERATOR.secret])).stdout).toContain(cluster.agents[0]!.agentId());
    const executed = await cli(
      ['execute', '--master', cluster.master.grpcAddress, '--name', 'authn-cli', '--docker_image', TEST_IMAGE, '--command', 'true', '--timeout', '60s'],
      { MESOS_TS_PRINCIPAL: 'alice', MESOS_TS_SECRET: `${SECRET}-alice` },
    );
    expect(executed).toMatchObject({ code: 0 });
    expect(executed.stdout).toMatch(/task authn-cli-1 FINISHED on /);
    for (const text of [refused.stdout, refused.stderr, executed.stdout, executed.stderr]) expect(text).not.toContain(SECRET);
  }, 90_000);

  it('the secret is in no log line, nor in /master/state, /master/flags or the agent\'s /flags', async () => {
    const get = async (address: string, path: string) =>
      (await fetch(`http://${address}${path}`, { headers: { Authorization: basicAuthorization(OPERATOR) } })).text();
    const masterFlags = await get(cluster.master.httpAddress, '/master/flags');
    const agentFlags = await get(cluster.agents[0]!.httpAddress, '/flags');
    for (const text of [await get(cluster.master.httpAddress, '/master/state'), masterFlags, agentFlags]) expect(text).not.toContain(SECRET);
    expect(JSON.parse(masterFlags).flags.credentials).toMatch(/credentials\.json$/); // a path, as Mesos shows it
    expect(JSON.parse(agentFlags).flags.credential).toMatch(/agent-credential$/);
    expect(cluster.logs.length).toBeGreaterThan(0);
    for (const line of cluster.logs) expect(line).not.toContain(SECRET);
  });
});

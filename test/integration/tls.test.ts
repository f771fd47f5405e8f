// TLS end to end, with mutual TLS on: a master and an agent as real
// processes configured only through LIBPROCESS_SSL_* (as Mesos is), certificates
// from scripts/make-certs.sh. `mesos-ts execute` runs a real container task
// to FINISHED over gRPC with TLS; `state`, `tasks` and `logs` read the master
// and the agent over https; the master's web UI proxy reaches the agent over
// https. Then every way in without the right TLS is refused, with a clear
// error on the client's side and a warning in the server's log: plain text
// on each TLS port, no client certificate, a certificate from another CA,
// and a TLS client against a plain-text master.
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Scheduler, silentLogger } from '../../framework/sdk/scheduler.js';
import { clientTls, type Tls } from '../../common/tls.js';
import { tlsFetch } from '../../common/tls-fetch.js';
import { startMaster, type RunningMaster } from '../../master/main.js';
import { commandEnv, ProcessGroup, type AgentProc, type MasterProc, type Proc } from '../harness/processes.js';
import { makeCerts, mtlsEnv, type Certs } from '../harness/certs.js';
import { TEST_IMAGE } from '../harness/cluster.js';
import { waitUntil } from '../harness/wait-until.js';

const run = promisify(execFile);
let certs: Certs;
let stranger: Certs;
let group: ProcessGroup;
let master: MasterProc;
let agent: AgentProc;
/** What a scheduler or the CLI of this cluster presents: the client certificate, trusting the cluster's CA. */
let client: Tls;
let clientEnv: Record<string, string>;

beforeAll(async () => {
  certs = makeCerts();
  stranger = makeCerts('mesos-ts-stranger-certs-');
  clientEnv = {
    LIBPROCESS_SSL_ENABLED: 'true', LIBPROCESS_SSL_CA_FILE: certs.ca, LIBPROCESS_SSL_CERT_FILE: certs.clientCert, LIBPROCESS_SSL_KEY_FILE: certs.clientKey,
  };
  client = clientTls({}, clientEnv)!;
  group = new ProcessGroup();
  master = await group.spawnMaster('master', ['--allocation_interval=0.1'], { env: mtlsEnv(certs), https: tlsFetch(client) });
  agent = await group.spawnAgent('agent', [`--master=${master.grpcAddress}`, '--resources=cpus:1;mem:256;disk:512'], { env: mtlsEnv(certs), https: tlsFetch(client) });
  await agent.waitForLine(/registered with the master/, 30_000);
}, 90_000);

afterAll(async () => {
  await group?.stopAll();
  for (const c of [certs, stranger]) if (c) rmSync(c.dir, { recursive: true, force: true });
});

async function cli(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['bin/mesos-ts.js', ...args], { env: commandEnv(env), timeout: 90_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** The next line of `proc`'s log matching `re` after what it has logged so far. */
function nextLine(proc: Proc, re: RegExp): Promise<void> {
  const seen = proc.lines.length;
  return waitUntil(() => proc.lines.slice(seen).some((l) => re.test(l)), 10_000, `${proc.name} logging ${re}`);
}

describe('a cluster with mutual TLS', () => {
  it('runs a container task to FINISHED through `mesos-ts execute`; state, tasks and logs read it over https', async () => {
    const executed = await cli(['execute', '--master', master.grpcAddress, '--name', 'tls', '--docker_image', TEST_IMAGE, '--command', 'echo hello over tls', '--timeout', '60s'], clientEnv);
    expect(executed, executed.stderr).toMatchObject({ code: 0 });
    expect(executed.stdout).toMatch(/task tls-1 FINISHED on /);

    const state = await cli(['state', '--master', master.httpAddress], clientEnv);
    expect(state, state.stderr).toMatchObject({ code: 0 });
    expect(state.stdout).toMatch(/agents\s+1 active of 1/);
    const tasks = await cli(['tasks', '--all', '--master', master.httpAddress], clientEnv);
    expect(tasks.stdout).toMatch(/tls-1 .* TASK_FINISHED/);
    const logs = await cli(['logs', 'tls-1', '--master', master.httpAddress], clientEnv);
    expect(logs, logs.stderr).toMatchObject({ code: 0, stdout: 'hello over tls\n' });
  }, 120_000);

  it('offers name the agent with https; the agent and the web UI proxy to it answer over https', async () => {
    const https = tlsFetch(client);
    const agentState = (await (await https(`https://${agent.httpAddress}/state`)).json()) as { id: string };
    const proxied = await https(`https://${master.httpAddress}/ui/agent/${agentState.id}/state`);
    expect(proxied.status).toBe(200);
    expect(((await proxied.json()) as { id: string }).id).toBe(agentState.id);

    const scheduler = new Scheduler({ master: master.grpcAddress, framework: { name: 'tls-offers' }, tls: client, logger: silentLogger });
    try {
      const events = scheduler.events();
      await scheduler.start();
      for await (const event of events) {
        if (event.type !== 'offers') continue;
        expect(event.offers[0]?.url).toMatchObject({ scheme: 'https', address: { port: agent.httpPort } });
        break;
      }
    } finally {
      await scheduler.teardown().catch(() => scheduler.close());
    }
  }, 60_000);
});

describe('refused without the right TLS', () => {
  it.each([
    ['master', () => master],
    ['agent', () => agent],
  ])('a plain-text HTTP request to the %s: 400 naming TLS, and a warning in its log', async (_name, proc) => {
    const logged = nextLine(proc(), /refused a plain-text connection on TLS port .*the client must use TLS/);
    const res = await fetch(`http://${proc().httpAddress}/health`);
    expect(res.status).toBe(400);
    expect(await res.text()).toBe('this port speaks TLS (LIBPROCESS_SSL_ENABLED); use https\n');
    await logged;
  });

  it('a plain-text scheduler: the master logs a warning, the scheduler hears that the master may speak TLS', async () => {
    const logged = nextLine(master, /refused a plain-text gRPC connection on TLS port/);
    const scheduler = new Scheduler({ master: master.grpcAddress, framework: { name: 'plain' }, tls: null, logger: silentLogger, reconnect: { maxAttempts: 1 } });
    await expect(scheduler.start()).rejects.toThrow(/the server may speak TLS: set LIBPROCESS_SSL_ENABLED=true/);
    await logged;
  }, 30_000);

  it('a plain-text agent: it never registers, and both sides say why', async () => {
    const refused = nextLine(master, /refused a plain-text gRPC connection on TLS port/);
    const plainAgent = await group.spawnAgent('plain-agent', [`--master=${master.grpcAddress}`, '--resources=cpus:0.5;mem:64']);
    await plainAgent.waitForLine(/no link to the master at .*the server may speak TLS/, 20_000);
    await refused;
    await plainAgent.stop();
    expect(plainAgent.lines.some((l) => /registered with the master/.test(l))).toBe(false);
  }, 40_000);

  it('the CLI in plain text: the master tells it to use https', async () => {
    const state = await cli(['state', '--master', master.httpAddress], {});
    expect(state.code).not.toBe(0);
    expect(state.stderr).toContain('this port speaks TLS (LIBPROCESS_SSL_ENABLED); use https');
  }, 30_000);

  it('no client certificate: refused over https and gRPC; the master logs each failed handshake', async () => {
    const noCert = clientTls({}, { LIBPROCESS_SSL_ENABLED: 'true', LIBPROCESS_SSL_CA_FILE: certs.ca })!;
    const logged = nextLine(master, /TLS handshake with .* failed: peer did not return a certificate/);
    await expect(tlsFetch(noCert)(`https://${master.httpAddress}/health`)).rejects.toThrow();
    await logged;
    const loggedGrpc = nextLine(master, /TLS handshake with .* failed: peer did not return a certificate/);
    const scheduler = new Scheduler({ master: master.grpcAddress, framework: { name: 'no-cert' }, tls: noCert, logger: silentLogger, reconnect: { maxAttempts: 1 } });
    await expect(scheduler.start()).rejects.toThrow(/may require a client certificate/);
    await loggedGrpc;
    const state = await cli(['state', '--master', master.httpAddress], { LIBPROCESS_SSL_ENABLED: 'true', LIBPROCESS_SSL_CA_FILE: certs.ca });
    expect(state.code).not.toBe(0);
    expect(state.stderr).toMatch(/cannot reach the master at https:\/\/.*it may require a client certificate signed by its CA/);
  }, 30_000);

  it('a client certificate from another CA: refused over https and gRPC, and the master logs why', async () => {
    const foreign = clientTls({}, {
      LIBPROCESS_SSL_ENABLED: 'true', LIBPROCESS_SSL_CA_FILE: certs.ca, LIBPROCESS_SSL_CERT_FILE: stranger.clientCert, LIBPROCESS_SSL_KEY_FILE: stranger.clientKey,
    })!;
    const logged = nextLine(master, /TLS handshake.* failed: client certificate refused \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\)/);
    await expect(tlsFetch(foreign)(`https://${master.httpAddress}/health`)).rejects.toThrow();
    await logged;
    const loggedGrpc = nextLine(master, /TLS handshake.* failed: client certificate refused \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\)/);
    const scheduler = new Scheduler({ master: master.grpcAddress, framework: { name: 'foreign' }, tls: foreign, logger: silentLogger, reconnect: { maxAttempts: 1 } });
    await expect(scheduler.start()).rejects.toThrow(/may require a client certificate/);
    await loggedGrpc;
  }, 30_000);

  it("a server certificate from another CA: the client does not trust it", async () => {
    const trustsStranger = clientTls({}, { ...clientEnv, LIBPROCESS_SSL_CA_FILE: stranger.ca })!;
    const state = await cli(['state', '--master', master.httpAddress], { ...clientEnv, LIBPROCESS_SSL_CA_FILE: stranger.ca });
    expect(state.stderr).toMatch(/certificate was not verified \(LIBPROCESS_SSL_CA_FILE must name the CA that signed it/);
    await expect(tlsFetch(trustsStranger)(`https://${master.httpAddress}/health`)).rejects.toThrow();
  }, 30_000);

  it('without server verification a client still speaks TLS: it reaches the master with no CA, and never in plain text', async () => {
    const unverified = { LIBPROCESS_SSL_ENABLED: 'true', LIBPROCESS_SSL_VERIFY_SERVER_CERT: 'false', LIBPROCESS_SSL_CERT_FILE: certs.clientCert, LIBPROCESS_SSL_KEY_FILE: certs.clientKey };
    const state = await cli(['state', '--master', master.httpAddress], unverified);
    expect(state, state.stderr).toMatchObject({ code: 0 });
    const scheduler = new Scheduler({ master: master.grpcAddress, framework: { name: 'unverified' }, tls: clientTls({}, unverified), logger: silentLogger });
    try {
      await expect(scheduler.start()).resolves.toMatchObject({ type: 'subscribed' });
    } finally {
      await scheduler.teardown().catch(() => scheduler.close());
    }
  }, 30_000);

  describe('a TLS client against a plain-text master', () => {
    let plain: RunningMaster;
    beforeAll(async () => {
      plain = await startMaster({ port: 0, grpc_port: 0 }, () => {});
    });
    afterAll(async () => plain?.stop());

    it('the CLI and the SDK say the server does not speak TLS; nothing is sent in clear', async () => {
      const state = await cli(['state', '--master', plain.httpAddress], clientEnv);
      expect(state.code).not.toBe(0);
      expect(state.stderr).toMatch(/the server does not speak TLS; is LIBPROCESS_SSL_ENABLED set on it\?/);
      await expect(tlsFetch(client)(`http://${plain.httpAddress}/health`)).rejects.toThrow(/refusing to send a request to http:\/\/.* in plain text/);
      const scheduler = new Scheduler({ master: plain.grpcAddress, framework: { name: 'tls-to-plain' }, tls: client, logger: silentLogger, reconnect: { maxAttempts: 1 } });
      await expect(scheduler.start()).rejects.toThrow(/does not speak TLS/);
    }, 30_000);
  });
});

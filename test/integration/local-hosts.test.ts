// `mesos-ts local --hosts 2` as a real process (root): the master and two
// agents on simulated hosts, a Docker engine per agent host, the demo's
// tasks FINISHED; the master's web UI answers from the root namespace at the
// address printed; Ctrl-C (SIGINT to the process group, as a terminal sends
// it) stops everything, and nothing of the run is left: no namespace, link,
// run file, engine process, mount or directory. With --ssl, --masters 2 and
// --kill_leader_after (on the mesos containerizer: no engines to start), every
// process serves a certificate naming its host's address and the leader's
// process is SIGKILLed mid-demo; certificates that do not name the hosts'
// addresses are refused. After a kill -9 of a run on the mesos containerizer,
// a sweep (as the next run makes) leaves none of its containers' processes,
// cgroups or mounts, and removes its directory.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { ProcessGroup, type Proc } from '../harness/processes.js';
import { HOSTS_STATE_DIR, sweepHosts } from '../harness/hosts.js';
import { leftovers, NOTHING } from '../harness/leftovers.js';
import { alive, mountsUnder, processesUnder } from '../../common/hosts/engine-leftovers.js';

const run = promisify(execFile);
const group = new ProcessGroup();
const output = (proc: Proc) => proc.lines.join('\n').replace(/\x1b\[[0-9;]*m/g, '');

/** The hosts' run files whose owner is `pid` (another run may have taken the same number since). */
const runFilesOf = (pid: number) =>
  (existsSync(HOSTS_STATE_DIR) ? readdirSync(HOSTS_STATE_DIR) : []).filter((f) => {
    try {
      return (JSON.parse(readFileSync(join(HOSTS_STATE_DIR, f), 'utf8')) as { owner: number }).owner === pid;
    } catch {
      return false;
    }
  });

/** Every link as `index: name`. */
const linkIds = async () => (await run('ip', ['-o', 'link', 'show'])).stdout.split('\n').map((l) => /^(\d+: [^:@]+)/.exec(l)?.[1]).filter((l): l is string => l !== undefined);

afterAll(() => group.stopAll(), 60_000);

describe('mesos-ts local --hosts 2', () => {
  it('runs the demo on hosts with an engine each, serves the web UI over the bridge, and leaves nothing after Ctrl-C', async () => {
    const local = group.spawnCommand('local', ['local', '--hosts', '2', '--tasks', '3', '--keep_running'], { ownProcessGroup: true });
    const up = await local.waitForLine(/hosts up: .*namespaces (mts\d+)-\*, bridge (mts\d+br) at .*; files under (\S+)/, 120_000);
    const [, prefix, bridge, base] = /namespaces (mts\d+)-\*, bridge (mts\d+br) at .*; files under (\S+)/.exec(up.replace(/\x1b\[[0-9;]*m/g, ''))!;
    expect(output(local)).toMatch(/hosts up: m1 198\.18\.\d+\.10, a1 198\.18\.\d+\.11, a2 198\.18\.\d+\.12/);
    await local.waitForLine(/2 Docker engines up, one per agent host/, 120_000);
    await local.waitForLine(/cluster stays up/, 120_000);
    expect(output(local)).toContain('all 3 tasks FINISHED');

    // The web UI address printed, from this (the root) namespace: the master sees both agents.
    const ui = /web UI at (http:\/\/198\.18\.\d+\.10:5050\/)/.exec(output(local))![1]!;
    expect((await fetch(ui)).status).toBe(200);
    const state = (await (await fetch(`${ui}master/state`)).json()) as { activated_slaves: number; slaves: { hostname: string }[] };
    expect(state.activated_slaves).toBe(2);
    // While it runs, its namespaces, links and the engines' processes exist (what the checks below must find gone). Namespaces
    // and links are told by identity (inode, index), not by name: another run may take the same names once this one is gone.
    const namespaces = ['m1', 'a1', 'a2'].map((h) => statSync(`/var/run/netns/${prefix}-${h}`).ino);
    const links = (await linkIds()).filter((l) => l.endsWith(`: ${bridge}`) || new RegExp(`: ${prefix}v\\d+$`).test(l));
    expect(links).toHaveLength(4);
    expect(processesUnder(join(base!, 'engine-a1')).length).toBeGreaterThan(0);

    process.kill(-local.pid, 'SIGINT');
    const exit = await local.exited;
    expect(output(local)).toContain('clean: no container, process, engine, namespace, veth or bridge left behind');
    expect(exit.code).toBe(0);
    expect(readdirSync('/var/run/netns').filter((f) => namespaces.includes(statSync(join('/var/run/netns', f), { throwIfNoEntry: false })?.ino ?? -1))).toEqual([]);
    const present = await linkIds();
    expect(links.filter((l) => present.includes(l))).toEqual([]);
    expect(runFilesOf(local.pid)).toEqual([]);
    expect(processesUnder(base!)).toEqual([]);
    expect(mountsUnder(base!)).toEqual([]);
    expect(existsSync(base!)).toBe(false);
  }, 240_000);

  it('--ssl --masters 2 --kill_leader_after: TLS on the hosts\' addresses; the leader SIGKILLed mid-demo, the other leads, every task finishes', async () => {
    const local = group.spawnCommand('local', [
      'local', '--hosts', '2', '--masters', '2', '--ssl', '--kill_leader_after', '3', '--tasks', '8', '--containerizer', 'mesos',
    ], { ownProcessGroup: true });
    const exit = await local.exited;
    const text = output(local);
    expect(exit.code, text).toBe(0);
    expect(text).toMatch(/mutual TLS on: a local CA and certificates in \S+ \(scripts\/make-certs\.sh, naming 127\.0\.0\.1 and 6 host addresses\)/);
    expect(text).toMatch(/master-1 up on host m1: gRPC \(TLS\) 198\.18\.\d+\.11:5060/);
    const first = /(master-\d) on host (m\d) leads: web UI at https:\/\/198\.18\.\d+\.\d+:5050\/, state at \S+; (master-\d) stands by/.exec(text);
    expect(first, text).not.toBeNull();
    const killed = new RegExp(`killing the leader, ${first![1]} \\(pid (\\d+) on host ${first![2]}\\) with SIGKILL`).exec(text);
    expect(killed, text).not.toBeNull();
    expect(alive(Number(killed![1]))).toBe(false);
    expect(text).toMatch(new RegExp(`${first![3]} on host m\\d leads \\([\\d.]+ s after the kill\\): web UI at https://`));
    expect(text).toMatch(new RegExp(`${first![3]}: 2 of 2 agents re-registered, 1 framework re-subscribed`));
    // The kill came while the demo ran: after it, tasks still finished.
    expect(text.slice(text.indexOf('killing the leader'))).toMatch(/task demo-\d FINISHED/);
    expect(text).toContain('all 8 tasks FINISHED');
    // The demo's stream to the killed leader dropped after its TLS handshake had passed: no hint about certificates.
    expect(text).not.toContain('may require a client certificate');
    expect(text).toContain('clean: no container, process, engine, namespace, veth or bridge left behind');
    expect(runFilesOf(local.pid)).toEqual([]);
  }, 240_000);

  it('refuses certificates that do not name the hosts\' addresses, and leaves nothing', async () => {
    const certs = mkdtempSync(join(tmpdir(), 'mesos-ts-certs-'));
    try {
      await run('bash', ['scripts/make-certs.sh', certs]);
      const env = { LIBPROCESS_SSL_ENABLED: 'true', LIBPROCESS_SSL_CERT_FILE: join(certs, 'server.pem'), LIBPROCESS_SSL_KEY_FILE: join(certs, 'server.key'), LIBPROCESS_SSL_CA_FILE: join(certs, 'ca.pem') };
      const local = group.spawnCommand('local', ['local', '--hosts', '1', '--containerizer', 'mesos'], { env });
      const exit = await local.exited;
      const text = output(local);
      expect(exit.code, text).toBe(1);
      expect(text).toMatch(new RegExp(`--ssl: the certificate ${join(certs, 'server.pem')} \\(from LIBPROCESS_SSL_CERT_FILE\\) does not name 198\\.18\\.\\d+\\.1, 198\\.18\\.\\d+\\.10, 198\\.18\\.\\d+\\.11, where processes of this run listen`));
      expect(text).toContain('the start failed; what it made is removed');
      expect(runFilesOf(local.pid)).toEqual([]);
      const base = /files under (\S+)/.exec(text)![1]!;
      expect(existsSync(base)).toBe(false);
    } finally {
      rmSync(certs, { recursive: true, force: true });
    }
  }, 60_000);
  it('after a kill -9, the next sweep removes the run\'s mesos containerizer containers (processes, cgroups, mounts) and its directory', async () => {
    const local = group.spawnCommand('local', ['local', '--hosts', '1', '--containerizer', 'mesos', '--tasks', '1', '--keep_running'], { ownProcessGroup: true });
    await local.waitForLine(/cluster stays up/, 120_000);
    const text = output(local);
    const base = /files under (\S+)/.exec(text)![1]!;
    const master = /master-1 up on host m1: gRPC (\S+)/.exec(text)![1]!;
    const sleeper = group.spawnCommand('execute', ['execute', '--master', master, '--name', 'sleeper', '--containerizer', 'mesos', '--command', 'sleep 600', '--instances', '2']);
    await sleeper.waitForLine(/sleeper-1\b.*RUNNING/, 60_000);
    await sleeper.waitForLine(/sleeper-2\b.*RUNNING/, 60_000);

    // Only `local` dies: its master and agent, in process groups of their own, live on, and so do the containers.
    process.kill(local.pid, 'SIGKILL');
    await local.exited;
    const workDir = join(base, 'agent-1');
    const ids = readdirSync(join(workDir, 'oci', 'containers'));
    const before = leftovers(workDir, ids);
    expect(ids.length).toBeGreaterThanOrEqual(2);
    expect(before.processes.length).toBeGreaterThanOrEqual(2);
    expect(before.cgroups.length).toBeGreaterThanOrEqual(2);
    expect(before.mounts.length).toBeGreaterThanOrEqual(2);

    await sweepHosts();
    expect(leftovers(workDir, ids)).toEqual(NOTHING);
    expect(mountsUnder(base)).toEqual([]);
    expect(existsSync(base)).toBe(false);
    expect(runFilesOf(local.pid)).toEqual([]);
    sleeper.signal('SIGKILL');
  }, 240_000);
});

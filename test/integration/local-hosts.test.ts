// `mesos-ts local --hosts 2` as a real process (root): the master and two
// agents on simulated hosts, a Docker engine per agent host, the demo's
// tasks FINISHED; the master's web UI answers from the root namespace at the
// address printed; Ctrl-C (SIGINT to the process group, as a terminal sends
// it) stops everything, and nothing of the run is left: no namespace, link,
// run file, engine process, mount or directory.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { ProcessGroup, type Proc } from '../harness/processes.js';
import { HOSTS_STATE_DIR } from '../harness/hosts.js';
import { mountsUnder, processesUnder } from '../../common/hosts/engine-leftovers.js';

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

  it('refuses --ssl with a message and starts nothing', async () => {
    const local = group.spawnCommand('local', ['local', '--hosts', '2', '--ssl']);
    const exit = await local.exited;
    expect(output(local)).toContain("--hosts does not take --ssl yet (the certificates name 127.0.0.1, not the hosts' addresses)");
    expect(exit.code).toBe(2);
    expect(runFilesOf(local.pid)).toEqual([]);
  }, 60_000);
});

// The agent's edge: flags and --resources/--attributes parsing.
import { afterAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { agentConfig } from '../../agent/main.js';
import { parseAttributes } from '../../agent/attributes.js';
import { AGENT_FLAGS } from '../../agent/flags.js';
import { parseFlags } from '../../common/flags.js';

// Detecting disk creates the work_dir.
const workDir = join(tmpdir(), `mesos-ts-agent-config-${process.pid}`);
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

const config = (...argv: string[]) => agentConfig(parseFlags(AGENT_FLAGS, ['--master=127.0.0.1:5050', `--work_dir=${workDir}`, ...argv]));

describe('agent flags', () => {
  it('has the Mesos defaults', () => {
    const { flags } = config('--resources=cpus:1;mem:64;disk:10;ports:[1-2]');
    expect(flags).toMatchObject({
      ip: '127.0.0.1', port: 5051, docker_pull: 'missing', docker_pull_timeout: 60, kill_grace_period: 3,
      status_update_retry_interval: 10, pids_limit: 1024, docker_default_image: 'mesos-ts/busybox:latest',
    });
  });

  it('hardens task containers by default; --no-switch_user, --default_container_user, --allow_root_tasks, --effective_capabilities adjust it', () => {
    expect(config().isolation).toEqual({
      allowedHostPaths: [], allowPrivileged: false, switchUser: true, defaultUser: 'nobody', allowRoot: false, capabilities: ['NET_BIND_SERVICE'],
    });
    expect(config('--no-switch_user', '--default_container_user=1000:1000', '--allow_root_tasks', '--effective_capabilities={"capabilities":["CHOWN"]}').isolation)
      .toMatchObject({ switchUser: false, defaultUser: '1000:1000', allowRoot: true, capabilities: ['CHOWN'] });
    expect(config('--effective_capabilities=').isolation.capabilities).toEqual([]);
    expect(() => config('--effective_capabilities=NET BIND')).toThrow("--effective_capabilities: 'NET BIND' is not a capability name");
    expect(() => config('--default_container_user= ')).toThrow("--default_container_user must be a user name or uid, optionally ':group' (e.g. nobody, 1000:1000), got ' '");
    expect(() => config('--default_container_user=a b')).toThrow("got 'a b'");
  });

  it('takes --resources as Mesos JSON too', () => {
    const json = JSON.stringify([
      { name: 'cpus', type: 'SCALAR', scalar: { value: 2 } },
      { name: 'mem', type: 'SCALAR', scalar: { value: 1024 } },
      { name: 'disk', type: 'SCALAR', scalar: { value: 4096 } },
      { name: 'ports', type: 'RANGES', ranges: { range: [{ begin: 31000, end: 32000 }] } },
    ]);
    expect(config(`--resources=${json}`).resources.toString()).toBe('cpus:2;disk:4096;mem:1024;ports:[31000-32000]');
    expect(() => config('--resources=[{"name":"cpus","scalar":{"value":-1}}]')).toThrow("--resources[0] ('cpus'): scalar value -1 is not a non-negative number");
    expect(() => config('--resources=[oops')).toThrow('--resources: not JSON');
  });

  it('parses --resources and detects what it leaves out', () => {
    expect(config('--resources=cpus:2;mem:1024;disk:4096;ports:[31000-32000]').resources.toString()).toBe(
      'cpus:2;disk:4096;mem:1024;ports:[31000-32000]',
    );
    const partial = config('--resources=cpus:3').resources;
    expect(partial.scalar('cpus')).toBe(3);
    expect(partial.scalar('mem')).toBeGreaterThanOrEqual(256);
    expect(partial.scalar('disk')).toBeGreaterThan(0);
    expect(partial.ranges('ports')).toEqual([[31000, 32000]]);
  });

  it('stops at a malformed --resources naming the bad token', () => {
    expect(() => config('--resources=cpus:2;mem:lots')).toThrow(/mem:lots/);
  });

  it.each([
    [['--docker_pull=always'], "--docker_pull must be 'missing' or 'never', got 'always'"],
    [['--port=70000'], '--port must be 0..65535'],
    [['--pids_limit=0'], '--pids_limit must be a positive integer'],
    [['--oci_launch_parallelism=0'], '--oci_launch_parallelism must be a positive integer, got 0'],
    [['--oci_launch_parallelism=2.5'], '--oci_launch_parallelism must be a positive integer, got 2.5'],
    [['--attributes=rack'], "invalid attribute key:value pair 'rack'"],
  ])('refuses %j', (argv, message) => {
    expect(() => config('--resources=cpus:1;mem:64;disk:1;ports:[1-2]', ...argv)).toThrow(message);
  });

  it('takes --containerizers in order of preference (docker by default) and refuses unknown or repeated names', () => {
    const opts = '--resources=cpus:1;mem:64;disk:1;ports:[1-2]';
    expect(config(opts).containerizers).toEqual(['docker']);
    expect(config(opts, '--containerizers=mesos,docker').containerizers).toEqual(['mesos', 'docker']);
    expect(() => config(opts, '--containerizers=rkt')).toThrow("--containerizers: unknown containerizer 'rkt' (known: docker, mesos)");
    expect(() => config(opts, '--containerizers=mesos,mesos')).toThrow('names a containerizer twice');
    expect(() => config(opts, '--containerizers=,')).toThrow('must name at least one');
  });

  it('refuses a --master that is not host:port', () => {
    expect(() => agentConfig(parseFlags(AGENT_FLAGS, ['--master=localhost']))).toThrow("--master must be host:port or zk://host:port/path, got 'localhost'");
    expect(() => agentConfig(parseFlags(AGENT_FLAGS, ['--master=zk://localhost/mesos']))).toThrow("server 'localhost' is not host:port");
  });
});

describe('parseAttributes', () => {
  it('parses text, scalars and ranges as Mesos does', () => {
    expect(parseAttributes('rack:r1; zone:a b ;level:3;weight:0.5;slots:[1-4,6-8];neg:-1')).toEqual([
      { name: 'rack', type: 'TEXT', text: { value: 'r1' } },
      { name: 'zone', type: 'TEXT', text: { value: 'ab' } },
      { name: 'level', type: 'SCALAR', scalar: { value: 3 } },
      { name: 'weight', type: 'SCALAR', scalar: { value: 0.5 } },
      { name: 'slots', type: 'RANGES', ranges: { range: [{ begin: 1, end: 4 }, { begin: 6, end: 8 }] } },
      { name: 'neg', type: 'TEXT', text: { value: '-1' } },
    ]);
    expect(parseAttributes('')).toEqual([]);
    expect(parseAttributes('url:http://x')).toEqual([{ name: 'url', type: 'TEXT', text: { value: 'http://x' } }]);
  });

  it.each([
    ['rack', "invalid attribute key:value pair 'rack'"],
    [':x', "invalid attribute key:value pair ':x'"],
    ['a:', "invalid attribute key:value pair 'a:'"],
    ['a:{x,y}', 'sets are not supported'],
    ['a:[1-2', 'mismatched brackets'],
    ['a:[x]', "got 'x'"],
  ])('refuses %s', (text, message) => {
    expect(() => parseAttributes(text)).toThrow(message);
  });
});

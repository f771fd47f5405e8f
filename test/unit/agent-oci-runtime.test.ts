// The start-up check of --oci_runtime (agent/driver/oci/runtime.ts): a runtime
// that cannot run, and crun on a hybrid cgroup host, are refused once with a
// message naming the flag. Runtimes are stand-in executables printing what
// runc and crun print for --version; the cgroup roots are temporary folders.
import { afterAll, describe, expect, it } from 'vitest';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { CommandRuntime, EXIT_FILE, PID_FILE, SUPERVISOR_NAME, runtimeProblem } from '../../agent/driver/oci/runtime.js';

const dir = mkdtempSync(join(tmpdir(), 'mesos-ts-oci-runtime-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function runtime(name: string, version: string): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\necho '${version}'\n`);
  chmodSync(path, 0o755);
  return path;
}
function cgroupRoot(name: string, unifiedControllers: string | null): string {
  const root = join(dir, name);
  mkdirSync(join(root, 'unified'), { recursive: true });
  if (unifiedControllers !== null) writeFileSync(join(root, 'unified', 'cgroup.controllers'), unifiedControllers);
  return root;
}

describe('--oci_runtime at start-up', () => {
  const crun = runtime('crun', 'crun version 1.8.1');
  const runc = runtime('runc', 'runc version 1.1.5');
  it('refuses crun on a hybrid host, saying why and what to use', async () => {
    const problem = await runtimeProblem(crun, cgroupRoot('hybrid', 'hugetlb\n'));
    expect(problem).toContain("refuses this host's hybrid cgroup layout");
    expect(problem).toContain('hugetlb');
    expect(problem).toContain('use runc');
  });
  it('takes crun where the unified tree holds no controller, and runc on a hybrid host', async () => {
    expect(await runtimeProblem(crun, cgroupRoot('v1-only', ''))).toBeNull();
    expect(await runtimeProblem(runc, cgroupRoot('hybrid-2', 'hugetlb\n'))).toBeNull();
  });
  it('names a runtime that cannot be run', async () => {
    expect(await runtimeProblem(join(dir, 'no-such-runtime'))).toMatch(/--oci_runtime '.*no-such-runtime' cannot be run/);
  });
  it('finds the real runc of this machine usable', async () => {
    expect(await runtimeProblem('runc')).toBeNull();
  });
});

describe('the supervisors\' launcher', () => {
  /** A stand-in runtime whose `run` writes its pid file and exits at once with status 3 (a container that ended). */
  const fake = runtime('fake-runc', 'runc version 1.1.5');
  writeFileSync(fake, '#!/bin/sh\nwhile [ $# -gt 0 ]; do if [ "$1" = --pid-file ]; then echo $$ >"$2"; fi; shift; done\nexit 3\n');
  const launchers = () => readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === process.pid && readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(SUPERVISOR_NAME);
    } catch {
      return false;
    }
  });
  const settled = async (file: string) => {
    for (let i = 0; i < 200 && !existsSync(file); i++) await new Promise((r) => setTimeout(r, 25));
    return readFileSync(file, 'utf8').trim();
  };

  it('outlives the containers it started: one launcher for containers that end one after another', async () => {
    const rt = new CommandRuntime(fake, join(dir, 'fake-root'));
    for (const id of ['one', 'two', 'three']) {
      const bundle = join(dir, `bundle-${id}`);
      mkdirSync(bundle, { recursive: true });
      await rt.supervise(id, bundle, { stdoutPath: join(bundle, 'out'), stderrPath: join(bundle, 'err') });
      expect(await settled(join(bundle, EXIT_FILE))).toBe('3');
      expect(existsSync(join(bundle, PID_FILE))).toBe(true);
      await new Promise((r) => setTimeout(r, 100)); // the supervisor's end reached the launcher
      expect(launchers()).toHaveLength(1);
    }
    rt.close();
  });
});

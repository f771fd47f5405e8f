// The start-up check of --oci_runtime (agent/driver/oci/runtime.ts): a runtime
// that cannot run, and crun on a hybrid cgroup host, are refused once with a
// message naming the flag. Runtimes are stand-in executables printing what
// runc and crun print for --version; the cgroup roots are temporary folders.
import { afterAll, describe, expect, it } from 'vitest';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runtimeProblem } from '../../agent/driver/oci/runtime.js';

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

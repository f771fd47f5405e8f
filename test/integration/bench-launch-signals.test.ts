// bench/launch.ts stopped by SIGTERM or SIGINT while a task runs removes what
// it started, as the agent's own shutdown does: the bench runs as a child
// process (a short run: --tasks 2 --rounds 1, no burst), is signalled once
// its agent runs a Docker task (SIGTERM) or a mesos task with its root pool
// mounted (SIGINT), and must leave no container with its labels, no mount
// and no process under its directory. The same when the run fails with an
// exception while a mesos task runs (--fail_after 1: the warm-up's first
// task; --no-docker, so this one needs no Docker engine; the bench exits 1).
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Docker from 'dockerode';
import { LABEL } from '../../agent/task-spec.js';
import { mountsUnder, processesUnder } from '../../common/hosts/engine-leftovers.js';
import { PLAIN_LABEL } from '../../bench/plain-launch.js';
import { waitUntil } from '../harness/wait-until.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const TSX_LOADER = pathToFileURL(fileURLToPath(import.meta.resolve('tsx'))).href;
const docker = new Docker();

const containersLabelled = async (label: string, running = false) =>
  (await docker.listContainers({ all: true, filters: { label: [label] } })).filter((c) => !running || c.State === 'running');

/** What must be there when the signal is sent: the moment named by the test. */
const MOMENTS = [
  {
    signal: 'SIGTERM' as const, code: 143, what: 'a Docker task runs',
    ready: async (base: string) => (await containersLabelled(`${LABEL.workDir}=${join(base, 'agent')}`, true)).length > 0,
  },
  {
    signal: 'SIGINT' as const, code: 130, what: 'a mesos task runs and its root pool is mounted',
    ready: async (base: string) => {
      const bundles = join(base, 'agent', 'oci', 'containers');
      const running = existsSync(bundles) && readdirSync(bundles).some((id) => existsSync(join(bundles, id, 'pid')));
      return running && mountsUnder(join(base, 'agent', 'oci', 'pool')).length > 0;
    },
  },
];

describe('bench/launch.ts stopped by a signal', () => {
  it.each(MOMENTS)('$signal once $what: exits $code, having removed its containers, mounts and processes', async ({ signal, code, ready }) => {
    const child = spawn(process.execPath, ['--import', TSX_LOADER, 'bench/launch.ts', '--tasks', '2', '--rounds', '1', '--burst', '0'], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    let ended = false;
    void exited.then(() => (ended = true));
    try {
      await waitUntil(() => ended || /the run's files are under (\S+)/.test(stderr), 30_000, 'the bench to name its directory');
      const base = /the run's files are under (\S+)/.exec(stderr)?.[1];
      if (!base) throw new Error(`the bench ended before it started: ${stderr}`);
      await waitUntil(async () => ended || (await ready(base)), 90_000, 'the moment to signal');
      if (ended) throw new Error(`the bench ended before the moment to signal: ${stderr}`);
      const mountsBefore = mountsUnder(base).length;
      child.kill(signal);
      expect(await exited, stderr).toBe(code);

      expect(stderr).toMatch(new RegExp(`${signal}: stopping the run`));
      expect(stderr).toMatch(/clean-up after SIGINT|clean-up after SIGTERM|clean-up after a signal/);
      await expectNothingLeft(base, stderr, mountsBefore);
    } finally {
      if (!ended) child.kill('SIGKILL');
    }
  }, 180_000);

  it('fails with an exception while a mesos task runs: exits 1, having removed its containers, mounts and processes', async () => {
    const child = spawn(process.execPath, ['--import', TSX_LOADER, 'bench/launch.ts', '--tasks', '2', '--rounds', '1', '--burst', '0', '--no-docker', '--fail_after', '1'], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    try {
      expect(await exited, stderr).toBe(1);
      const base = /the run's files are under (\S+)/.exec(stderr)?.[1];
      if (!base) throw new Error(`the bench did not name its directory: ${stderr}`);
      expect(stderr).toContain('--fail_after 1: failing on purpose with 1 task(s) running');
      // The failure came with the mesos task running and the root pool mounted: both were there to remove.
      expect(stderr).toMatch(/clean-up after an error: removed .*1 mesos container \(mesos-/);
      await expectNothingLeft(base, stderr, 1, { docker: false });
    } finally {
      child.kill('SIGKILL');
    }
  }, 180_000);
});

/** What the run said it removed includes at least `mountsBefore` mounts, and nothing of it is left (Docker asked only if the run used it). */
async function expectNothingLeft(base: string, stderr: string, mountsBefore: number, { docker = true } = {}): Promise<void> {
  expect(stderr).not.toContain('LEFT');
  expect(Number(/removed .*?(\d+) mounts? \(/.exec(stderr)?.[1] ?? 0)).toBeGreaterThanOrEqual(mountsBefore);
  if (docker) {
    expect(await containersLabelled(`${LABEL.workDir}=${join(base, 'agent')}`)).toEqual([]);
    expect(await containersLabelled(`${PLAIN_LABEL}=${join(base, 'plain')}`)).toEqual([]);
  }
  expect(mountsUnder(base)).toEqual([]);
  expect(processesUnder(base)).toEqual([]);
  expect(existsSync(base)).toBe(false);
}

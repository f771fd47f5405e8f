// bench/scale/main.ts signalled while its ZooKeeper is still starting (the
// JVM runs, nothing answers yet, the cluster is not recorded) leaves no JVM
// behind: the start is aborted and the JVM killed in the abort. The bench
// runs as a child process; the test signals it the moment its JVM child
// exists, long before ZooKeeper can answer (a JVM takes seconds to start).
import { expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { alive } from '../../common/hosts/engine-leftovers.js';
import { fourLetter } from '../../common/zk/local-server.js';
import { waitUntil } from '../harness/wait-until.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const TSX_LOADER = pathToFileURL(fileURLToPath(import.meta.resolve('tsx'))).href;

/** The children of `pid` (from /proc/<child>/stat's ppid field). */
function childrenOf(pid: number): number[] {
  return readdirSync('/proc').filter((e) => /^\d+$/.test(e)).map(Number).filter((child) => {
    try {
      const stat = readFileSync(`/proc/${child}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid;
    } catch {
      return false;
    }
  });
}

const cmdline = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
};

it.each(['SIGTERM', 'SIGINT'] as const)('%s while ZooKeeper starts: exits 130 and its JVM is gone', async (signal) => {
  const out = mkdtempSync(join(tmpdir(), 'mesos-ts-scale-signal-'));
  const child = spawn(process.execPath, ['--import', TSX_LOADER, 'bench/scale/main.ts', '--agents', '1', '--seconds', '1', '--out', out], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let jvm = 0;
  try {
    await waitUntil(() => (jvm = childrenOf(child.pid!).find((p) => cmdline(p).includes('ZooKeeperServerMain')) ?? 0) > 0, 60_000, 'the bench to start ZooKeeper');
    const port = Number(/clientPort=(\d+)/.exec(readFileSync(join(/(\S+)zoo\.cfg/.exec(cmdline(jvm))![1]!, 'zoo.cfg'), 'utf8'))![1]);
    child.kill(signal);
    expect(await exited, output).toBe(130);
    // It was still starting when signalled (it never answered), and its JVM is gone with the bench.
    expect(output).not.toMatch(/ZooKeeper on/);
    await waitUntil(() => !alive(jvm), 5000, `the JVM (pid ${jvm}) to be gone`);
    expect(await fourLetter('127.0.0.1', port, 'ruok')).toBe('');
  } finally {
    child.kill('SIGKILL');
    if (jvm > 0 && alive(jvm)) process.kill(jvm, 'SIGKILL'); // Only if the bench left it: the test has failed then.
    rmSync(out, { recursive: true, force: true });
  }
}, 120_000);

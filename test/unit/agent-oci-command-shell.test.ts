// The long-lived shell that runs the mesos containerizer's short commands
// (agent/driver/oci/command-shell.ts): exit status and output of each
// command, several at once, a command that cannot be run, arguments it
// refuses, and a shell killed underneath it.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { CommandShell } from '../../agent/driver/oci/command-shell.js';

const dir = mkdtempSync(join(tmpdir(), 'mesos-ts-command-shell-'));
const shell = new CommandShell(dir);
afterAll(() => {
  shell.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('CommandShell', () => {
  it('answers each command with its exit status, stdout and stderr, and keeps no output file', async () => {
    expect(await shell.run(['sh', '-c', 'echo out; echo err >&2; exit 3'])).toEqual({ code: 3, stdout: 'out\n', stderr: 'err\n' });
    expect(await shell.run(['printf', '%s|', 'a b', "it's", '$HOME', '*'])).toEqual({ code: 0, stdout: "a b|it's|$HOME|*|", stderr: '' });
    expect(readdirSync(dir)).toEqual([]);
  });

  it('runs commands at once, each answer going to its own caller', async () => {
    // The slow command ends only once the fast ones have answered: queued behind it, they never would (the test times out).
    const gate = join(mkdtempSync(join(tmpdir(), 'mesos-ts-command-gate-')), 'open');
    const slow = shell.run(['sh', '-c', `while [ ! -e ${gate} ]; do sleep 0.02; done; echo slow`]);
    const fast = await Promise.all([1, 2, 3].map((i) => shell.run(['sh', '-c', `echo ${i}; exit ${i}`])));
    expect(fast).toEqual([1, 2, 3].map((i) => ({ code: i, stdout: `${i}\n`, stderr: '' })));
    writeFileSync(gate, '');
    expect(await slow).toEqual({ code: 0, stdout: 'slow\n', stderr: '' });
    rmSync(dirname(gate), { recursive: true, force: true });
  });

  it('reports a command that cannot be run as a shell does (127) and refuses arguments it cannot pass', async () => {
    const missing = await shell.run(['/no/such/command', 'x']);
    expect(missing.code).toBe(127);
    expect(missing.stderr).toMatch(/not found/);
    await expect(shell.run(['echo', 'a\tb'])).rejects.toThrow(/tab or a newline/);
    await expect(shell.run(['echo', ''])).rejects.toThrow(/empty argument/);
    await expect(shell.run([])).rejects.toThrow(/cannot run/);
  });

  it('fails the commands in flight when its shell is killed, and starts another for the next', async () => {
    const own = new CommandShell(mkdtempSync(join(dir, 'own-')));
    await own.run(['true']);
    const pid = own.pid!;
    const inFlight = own.run(['sleep', '1']);
    process.kill(pid, 'SIGKILL');
    expect((await inFlight).code).toBe(-1);
    expect(await own.run(['echo', 'again'])).toEqual({ code: 0, stdout: 'again\n', stderr: '' });
    expect(own.pid).not.toBe(pid);
    own.close();
  });
});

// A command that returned its exit code but left a handle holding the event
// loop (a socket or timer its clean-up missed) must still end the process,
// with its code, naming what held it; one that left nothing ends at once.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const MAIN = new URL('../../cli/main.ts', import.meta.url).pathname;

function run(body: string) {
  const script = `import { exitIfHeld } from ${JSON.stringify(MAIN)};\n${body}`;
  const started = Date.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, stderr: r.stderr, ms: Date.now() - started };
}

describe('exitIfHeld', () => {
  it('ends a process held by a forgotten interval with the command\'s code, naming the handle', () => {
    const r = run(`setInterval(() => {}, 1000); exitIfHeld('local', 3, 300);`);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/mesos-ts local: still running 0\.3 s after it ended, held by .*Timeout.*; exiting/);
  });

  it('leaves a process that holds nothing to exit by itself, without a word', () => {
    const r = run(`process.exitCode = 4; exitIfHeld('local', 4, 20_000);`);
    expect(r.code).toBe(4);
    expect(r.stderr).toBe('');
    expect(r.ms).toBeLessThan(15_000); // Did not wait for the 20 s timer: it is unref'd.
  });
});

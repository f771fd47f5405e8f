// A stand-in for a command an agent runs (`mount`, its OCI runtime) that runs
// the real one, except for one call once armed: the first call whose arguments
// hold the armed text is held, after the real command ran (`after`) or before
// it (`before`), until the test releases it. How a test stops an agent in a
// chosen step of a launch (a root mounted, a start under way) without a sleep
// that hopes to land there: the held call is recorded with its pid, so the
// test knows when the agent is in that step and can end the call by its pid.
import { execFileSync } from 'node:child_process';
import { chmodSync, closeSync, constants, existsSync, mkdtempSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { waitUntil } from './wait-until.js';

export interface HeldCall {
  readonly pid: number;
  /** The call's arguments, as the shell joined them (space-separated). */
  readonly args: string;
}

export class HeldCommand {
  /** The stand-in: a folder to put first on the PATH holds it under the real command's name. */
  readonly path: string;
  private readonly dir: string;

  /** `real`: the command's name on this process's PATH (resolved now) or its path. */
  constructor(parent: string, real: string, private readonly when: 'before' | 'after') {
    const name = real.split('/').at(-1)!;
    this.dir = mkdtempSync(join(parent, `held-${name}-`));
    const realPath = real.includes('/') ? real : execFileSync('/bin/sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
    this.path = join(this.dir, name);
    execFileSync('mkfifo', [join(this.dir, 'release')]);
    const q = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
    // mv of the armed file is atomic: of calls made together, one alone is held.
    writeFileSync(this.path, [
      '#!/bin/sh',
      `d=${q(this.dir)} real=${q(realPath)} after=${when === 'after' ? 1 : 0}`,
      'if [ -e "$d/armed" ] && pat=$(cat "$d/armed") && case " $* " in *"$pat"*) true ;; *) false ;; esac && mv "$d/armed" "$d/taken" 2>/dev/null; then',
      '  status=0',
      '  if [ $after = 1 ]; then "$real" "$@"; status=$?; fi',
      '  echo "$$ $*" >"$d/held.tmp" && mv "$d/held.tmp" "$d/held"',
      '  read -r _ <"$d/release"',
      '  if [ $after = 1 ]; then exit $status; fi',
      'fi',
      'exec "$real" "$@"',
      '',
    ].join('\n'));
    chmodSync(this.path, 0o755);
  }

  /** The folder to put first on the PATH of the process that is to run the stand-in. */
  get binDir(): string {
    return this.dir;
  }

  /** Holds the next call whose arguments contain `text`. */
  arm(text: string): void {
    writeFileSync(join(this.dir, 'armed'), text);
  }

  /** The held call, once there is one. */
  async held(timeoutMs: number, what: string): Promise<HeldCall> {
    const file = join(this.dir, 'held');
    await waitUntil(() => existsSync(file), timeoutMs, what);
    const [pid, ...args] = readFileSync(file, 'utf8').trim().split(' ');
    return { pid: Number(pid), args: args.join(' ') };
  }

  /** Lets the held call go on (the real command run now if held before it); false when none is waiting. */
  release(): boolean {
    let fd: number;
    try {
      fd = openSync(join(this.dir, 'release'), constants.O_WRONLY | constants.O_NONBLOCK);
    } catch {
      return false; // ENXIO: nobody reads the fifo, no call is held.
    }
    try {
      writeSync(fd, 'go\n');
      return true;
    } finally {
      closeSync(fd);
    }
  }
}

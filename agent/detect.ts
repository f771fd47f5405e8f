// What an agent offers when --resources is not given, and --attributes parsing.
import { cpus, totalmem } from 'node:os';
import { statfsSync, mkdirSync } from 'node:fs';
import type { AttributeIn } from '../proto/index.js';
import { InvalidArgument } from '../common/errors.js';
import { Resources } from '../common/resources.js';

/** cpus and mem of this machine (1 GiB kept for the system), disk of the work_dir's filesystem, Mesos's default ports. */
export function detectResources(workDir: string): Resources {
  mkdirSync(workDir, { recursive: true });
  const fs = statfsSync(workDir);
  const diskMiB = Math.floor((fs.bavail * fs.bsize) / 1024 / 1024 * 0.95);
  const memMiB = Math.max(256, Math.floor(totalmem() / 1024 / 1024) - 1024);
  return Resources.scalars({ cpus: cpus().length, mem: memMiB, disk: diskMiB }).add(Resources.parse('ports:[31000-32000]'));
}

/** `rack:r1;zone:a;level:3` -> Attribute messages (numbers are scalars, the rest text). */
export function parseAttributes(text: string): AttributeIn[] {
  const out: AttributeIn[] = [];
  for (const raw of text.split(';')) {
    const token = raw.trim();
    if (token === '') continue;
    const m = /^([A-Za-z_][A-Za-z0-9_.-]*)\s*:\s*(\S.*)$/.exec(token);
    if (!m) throw new InvalidArgument(`bad attribute '${token}': expected NAME:VALUE`);
    const [, name, value] = m as unknown as [string, string, string];
    const n = Number(value);
    out.push(
      Number.isFinite(n) && /^-?\d+(\.\d+)?$/.test(value.trim())
        ? { name, type: 'SCALAR', scalar: { value: n } }
        : { name, type: 'TEXT', text: { value: value.trim() } },
    );
  }
  return out;
}

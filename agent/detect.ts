// What an agent offers when --resources is not given: this machine's cpus
// and memory (1 GiB kept for the system), the disk of the work_dir's
// filesystem (5% kept back) and Mesos's default ports.
import { cpus, totalmem } from 'node:os';
import { statfsSync, mkdirSync } from 'node:fs';
import { Resources } from '../common/resources.js';

export const DEFAULT_PORTS = '[31000-32000]';

export function detectResources(workDir: string): Resources {
  mkdirSync(workDir, { recursive: true });
  const fs = statfsSync(workDir);
  const diskMiB = Math.floor(((fs.bavail * fs.bsize) / 1024 / 1024) * 0.95);
  const memMiB = Math.max(256, Math.floor(totalmem() / 1024 / 1024) - 1024);
  return Resources.scalars({ cpus: cpus().length, mem: memMiB, disk: diskMiB }).add(Resources.parse(`ports:${DEFAULT_PORTS}`));
}

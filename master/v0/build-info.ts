// Mesos's build fields (/version, /master/state): version, build_date
// ("YYYY-MM-DD HH:MM:SS"), build_time (seconds) and build_user. Ours are read
// from the installed code: when this module was built (its file's time);
// who built it is not recorded, so build_user is empty. No git_* fields:
// Mesos writes them only when its build knew them.
import { statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { VERSION } from '../../common/version.js';
import type { BuildInfo } from './model.js';

export function buildInfo(): BuildInfo {
  let built = new Date(0);
  try {
    built = statSync(fileURLToPath(import.meta.url)).mtime;
  } catch {
    // Bundled or virtual module: the epoch says "unknown".
  }
  const date = built.toISOString().replace('T', ' ').slice(0, 19);
  return { version: VERSION, build_date: date, build_time: Math.floor(built.getTime() / 1000), build_user: '' };
}

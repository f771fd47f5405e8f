// Vitest's global setup: tests spawn the product as users run it
// (`node bin/mesos-ts.js`, which runs dist/), so dist/ is rebuilt first when
// a source is newer than it (`npm test` has just built it; a single test
// file run with `npx vitest run` may not have).
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export default function buildDistIfStale(): void {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  execFileSync(process.execPath, ['scripts/build.mjs', '--if-stale'], { cwd: root, stdio: 'inherit' });
}

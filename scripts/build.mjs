// Compiles the product to dist/ (what bin/mesos-ts.js runs): the TypeScript
// types generated from proto/ first, then tsc with tsconfig.build.json (the
// product's folders only: no tests, no benchmarks), then the files the
// compiled code reads at run time beside it, at the same relative paths:
// the .proto files (proto/index.ts loads them from its own folder) and the
// web pages' assets (master/webui/web-ui.ts and framework/apps/webui/web-ui.ts
// serve ./assets).
//
//   node scripts/build.mjs              a clean build (npm run build)
//   node scripts/build.mjs --if-stale   only when a source is newer than the last build (the tests' global setup)
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist');
const stamp = join(dist, '.stamp');
const SOURCE_DIRS = ['proto', 'common', 'master', 'agent', 'framework', 'cli', 'simulator'];
// Run-time files the compiled code opens by a path relative to its own module.
const ASSETS = [
  { from: 'proto', keep: (name) => name.endsWith('.proto') },
  { from: 'master/webui/assets', keep: () => true },
  { from: 'framework/apps/webui/assets', keep: (name) => !name.endsWith('.d.ts') },
];

/** The newest modification time under `dir` (gen/ included: it changes when the .proto files do). */
function newestUnder(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestUnder(path) : statSync(path).mtimeMs);
  }
  return newest;
}

function stale() {
  if (!existsSync(stamp)) return true;
  const inputs = [...SOURCE_DIRS.map((d) => newestUnder(join(root, d))),
    ...['tsconfig.json', 'tsconfig.build.json', 'package.json', 'scripts/build.mjs'].map((f) => statSync(join(root, f)).mtimeMs)];
  return Math.max(...inputs) > statSync(stamp).mtimeMs;
}

execFileSync(process.execPath, [join(root, 'scripts/gen-proto-types.mjs')], { stdio: 'inherit' });
if (process.argv.includes('--if-stale') && !stale()) process.exit(0);

const started = Date.now();
rmSync(dist, { recursive: true, force: true });
const tsc = join(dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin', 'tsc');
try {
  execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { cwd: root, stdio: 'inherit' });
} catch {
  // tsc emits even with type errors; a half-good dist/ must not pass for a build.
  rmSync(dist, { recursive: true, force: true });
  process.stderr.write('[build] tsc failed; dist/ removed\n');
  process.exit(1);
}
for (const { from, keep } of ASSETS) {
  cpSync(join(root, from), join(dist, from), {
    recursive: true,
    filter: (src) => statSync(src).isDirectory() ? !src.startsWith(join(root, 'proto', 'gen')) : keep(src),
  });
}
writeFileSync(stamp, new Date().toISOString() + '\n');
process.stdout.write(`[build] dist/ built in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);

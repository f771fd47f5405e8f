// Generates TypeScript types for every .proto under proto/ into proto/gen/
// with @grpc/proto-loader's generator, using the same options proto/load.ts
// passes at run time (keep the two in step). Skips work when up to date.
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync, existsSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const protoDir = join(root, 'proto');
const outDir = join(protoDir, 'gen');

function protoFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (path === outDir) return [];
    if (statSync(path).isDirectory()) return protoFiles(path);
    return name.endsWith('.proto') ? [path] : [];
  });
}

const files = protoFiles(protoDir);
const stamp = join(outDir, '.stamp');
const newest = Math.max(...files.map((f) => statSync(f).mtimeMs), statSync(fileURLToPath(import.meta.url)).mtimeMs);
if (existsSync(stamp) && statSync(stamp).mtimeMs >= newest && !process.argv.includes('--force')) process.exit(0);

rmSync(outDir, { recursive: true, force: true });
execFileSync(
  join(root, 'node_modules/.bin/proto-loader-gen-types'),
  [
    '--keepCase', '--longs=Number', '--enums=String', '--defaults', '--oneofs', '--bytes=Buffer',
    '--grpcLib=@grpc/grpc-js', '--importFileExtension=.js', '--includeDirs', protoDir, '--outDir', outDir,
    ...files.map((f) => relative(protoDir, f)),
  ],
  { cwd: protoDir, stdio: 'inherit' },
);
import { writeFileSync } from 'node:fs';
writeFileSync(stamp, new Date().toISOString() + '\n');

// A run in a process of its own, for the tests of what a dead run leaves:
// `script` (ESM TypeScript, imports relative to the repository) is started
// under tsx and reports one JSON line once what it built is up; the test
// then SIGKILLs it. The loader is imported by its file URL, not its package
// name, and a child that ends before its line fails the test at once with
// what it wrote, rather than leaving it to wait out its timeout.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const TSX_LOADER = pathToFileURL(fileURLToPath(import.meta.resolve('tsx'))).href;

export async function startRun<T>(script: string): Promise<{ child: ChildProcess; first: T }> {
  const child = spawn(process.execPath, ['--import', TSX_LOADER, '--input-type=module', '-e', script], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
    process.stderr.write(d);
  });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code, signal) => reject(new Error(`the run ended (${signal ?? `exit ${code}`}) before it reported: ${stderr.slice(-2000)}`)));
  });
  return { child, first: JSON.parse(line) as T };
}

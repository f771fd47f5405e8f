// The SDK as an author gets it: `npm pack` makes the tarball, a copy of
// examples/frameworks/hello outside the repository installs it (the
// tarball's dependencies from npm's cache, else the registry), type-checks
// against the shipped declarations, and runs against a real cluster. And
// `npm run docs` makes the API reference from those declarations.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startCluster, containersUnder, TEST_IMAGE, type TestCluster } from '../harness/cluster.js';

const run = promisify(execFile);
const REPO = fileURLToPath(new URL('../..', import.meta.url));
const EXAMPLE = join(REPO, 'examples', 'frameworks', 'hello');

let cluster: TestCluster;
let work: string;
let app: string;
let tarball: string;
/** The API reference, made while the other tests run (it reads only dist/). */
let docs: Promise<{ out: string; error: unknown }>;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'mesos-ts-sdk-package-'));
  // The example sits at the same depth as in the repository, so its
  // "file:../../../mesos-ts-<version>.tgz" finds the tarball packed into `work`.
  app = join(work, 'examples', 'frameworks', 'hello');
  cpSync(EXAMPLE, app, { recursive: true, filter: (src) => !/[/\\](node_modules|dist)$/.test(src) });
  // prepack rebuilds dist/ only if stale: vitest's global setup has just built it.
  await run('npm', ['pack', '--pack-destination', work, '--silent'], { cwd: REPO, timeout: 60_000 });
  tarball = readdirSync(work).find((f) => f.endsWith('.tgz')) ?? '';
  // After the pack: both check dist/ is fresh, and two stale builds must not race.
  const out = join(work, 'api');
  docs = run(process.execPath, ['scripts/docs.mjs', '--out', out], { cwd: REPO, timeout: 90_000 }).then(() => ({ out, error: null }), (error: unknown) => ({ out, error }));
  cluster = await startCluster({ agents: ['cpus:1;mem:256'], master: { heartbeat_interval: 0.5 } });
}, 90_000);

afterAll(async () => {
  await docs;
  if (process.env.DEBUG_TEST) console.error(cluster?.logs.join('\n'));
  await cluster?.stop();
  if (cluster) expect(await containersUnder(cluster.base)).toEqual([]);
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the SDK as an installed package', () => {
  it('packs bin, dist with declarations and the .proto files the SDK loads, and nothing of the sources or tests', async () => {
    const { version } = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string };
    expect(tarball).toBe(`mesos-ts-${version}.tgz`);
    const example = JSON.parse(readFileSync(join(EXAMPLE, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    expect(example.dependencies['mesos-ts']).toBe(`file:../../../${tarball}`);

    const { stdout } = await run('tar', ['tzf', join(work, tarball)]);
    const files = stdout.trim().split('\n').map((f) => f.replace(/^package\//, ''));
    expect(files).toEqual(expect.arrayContaining([
      'package.json', 'README.md', 'bin/mesos-ts.js',
      'dist/framework/sdk/index.js', 'dist/framework/sdk/index.d.ts', 'dist/proto/index.d.ts',
      'dist/proto/mesos/v1/mesos.proto', 'dist/proto/mesos/v1/scheduler/scheduler.proto', 'dist/proto/mesos_ts/scheduler_service.proto',
    ]));
    expect(files.filter((f) => !/^(package\.json|README\.md|bin\/[^/]+\.js|dist\/.+\.(js|d\.ts|proto|html|css|svg|png|ico))$/.test(f))).toEqual([]);
  });

  it('installs into a framework outside the repository, type-checks, and runs its tasks to FINISHED', async () => {
    // --ignore-scripts: the SDK needs no install script (the only ones are
    // optional native speed-ups of dockerode's SSH transport, for the agent).
    await run('npm', ['install', '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: app, timeout: 120_000 });
    expect(existsSync(join(app, 'node_modules', 'mesos-ts', 'dist', 'proto', 'mesos', 'v1', 'mesos.proto'))).toBe(true);
    await run('npm', ['run', 'build', '--silent'], { cwd: app, timeout: 60_000 });

    const { stdout } = await run(process.execPath, [
      'dist/hello.js', '--master', cluster.master.grpcAddress, '--tasks', '3', '--image', TEST_IMAGE, '--timeout', '45',
    ], { cwd: app, timeout: 60_000 });
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^subscribed as framework .+-\d{4}$/);
    for (let i = 1; i <= 3; i++) expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^task hello-${i} TASK_FINISHED`)));
    expect(lines.at(-1)).toBe('3 of 3 task(s) FINISHED');
    // teardown() removed the framework.
    const state = (await (await fetch(`http://${cluster.master.httpAddress}/state`)).json()) as { frameworks: unknown[] };
    expect(state.frameworks).toEqual([]);
  }, 180_000);

  it('exports mesos-ts/sdk only: the rest of dist/ is not an entry point', async () => {
    // In the example installed by the test above.
    const deep = await run(process.execPath, ['--input-type=module', '-e', "await import('mesos-ts/dist/master/main.js')"], { cwd: app })
      .then(() => '', (err: { stderr: string }) => err.stderr);
    expect(deep).toContain('ERR_PACKAGE_PATH_NOT_EXPORTED');
  });

  it('npm run docs writes the API reference, with a description for every export', async () => {
    const { out, error } = await docs;
    expect(error).toBeNull();
    expect(readFileSync(join(out, 'mesos-ts.scheduler.md'), 'utf8')).toContain("A framework's scheduler client");
    // The package page lists each export with the first sentence of its comment;
    // the generated protobuf types carry no comments of their own.
    const GENERATED = new Set(['MasterInfoOut', 'OfferOut', 'OperationIn', 'TaskInfoIn', 'TaskStatusOut', 'TaskState', 'CapabilityType']);
    const page = readFileSync(join(out, 'mesos-ts.md'), 'utf8');
    const rows = [...page.matchAll(/<tr><td>\s*\[([^\]]+)\]\([^)]*\)\s*<\/td><td>([\s\S]*?)<\/td><\/tr>/g)];
    expect(rows.length).toBeGreaterThan(50);
    const undocumented = rows.filter(([, name, description]) => !description!.trim() && !GENERATED.has(name!.replace(/\(.*$/, ''))).map(([, name]) => name);
    expect(undocumented).toEqual([]);
  }, 90_000);
});

// bench/runc-invocation: the runtime's part of a launch, outside the agent:
// the same bundle (the agent's config.json, its seccomp filter included)
// started by runc the ways the agent and the plain yardstick start it,
// interleaved, one at a time, each timed until the container's pid is known:
//   agent           the agent's supervisor (runtime.ts): `runc --log F --log-format json run --keep --pid-file P`
//                   in the foreground, the pid file seen through inotify
//   supervisor, -d  the same supervisor line with `run -d` (detached) instead of `run --keep`
//   agent, 2 O_SYNC appends beside   the agent's way while two records are appended to an O_SYNC file (as the
//                   TASK_STARTING update and its acknowledgement are checkpointed while the runtime starts)
//   plain -d        `runc run -d` through a long-lived shell, timed to its exit (bench/plain-launch.ts)
// Also the CPU time each used in the container's cgroup (runc init and the task), from cpuacct.usage.
//   npx tsx bench/runc-invocation.ts [--launches 20]
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, watch, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { hostname, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ociConfig } from '../agent/driver/oci/bundle.js';
import { swapLimitSupported } from '../agent/driver/oci/oci.js';
import { defaultSeccomp } from '../agent/driver/oci/seccomp.js';
import { ImageStore, RootfsMaker } from '../agent/driver/oci/image-store.js';
import { CommandRuntime, PID_FILE } from '../agent/driver/oci/runtime.js';
import { CommandShell } from '../agent/driver/oci/command-shell.js';
import { parseFlags } from '../common/flags.js';
import { unmountUnder } from '../common/hosts/engine-leftovers.js';
import { percentile } from '../common/timer-window.js';
import { OCI_REGISTRY } from '../test/harness/oci.js';
import { BENCH_IMAGE } from './plain-launch.js';

const FLAGS = { launches: { type: 'number', default: 20, help: 'launches each way' } } as const;
const WAYS = ['agent', 'agent, 2 O_SYNC appends beside', 'supervisor, -d', 'plain -d'] as const;
type Way = (typeof WAYS)[number];

async function main(): Promise<void> {
  const flags = parseFlags(FLAGS, process.argv.slice(2), { env: process.env });
  const dir = mkdtempSync(join(tmpdir(), 'mesos-ts-runc-invocation-'));
  const root = join(dir, 'runtime');
  const shell = new CommandShell(join(dir, 'commands'));
  const runtime = new CommandRuntime('runc', root, shell);
  const images = new ImageStore(OCI_REGISTRY, join(dir, 'store'));
  const rootfs = new RootfsMaker(() => {});
  const image = await images.provision(BENCH_IMAGE);
  const times = new Map<Way, number[]>(WAYS.map((w) => [w, []]));
  const cpu = new Map<Way, number[]>(WAYS.map((w) => [w, []]));
  let n = 0;
  const prepare = async () => {
    const id = `inv-${process.pid}-${n++}`;
    const bundle = join(dir, id);
    mkdirSync(join(bundle, 'sandbox'), { recursive: true });
    const mount = await rootfs.make(image.rootfs, bundle);
    if (mount.length > 0) await new Promise((r) => spawn(mount[0]!, mount.slice(1), { stdio: 'ignore' }).once('close', r));
    const spec = {
      image: BENCH_IMAGE, forcePull: false, command: { entrypoint: ['sleep', '3600'] }, env: {}, labels: {}, cpus: 0.1, memMiB: 32,
      pidsLimit: 1024, privileged: false, user: 'nobody', capabilities: ['NET_BIND_SERVICE'], readOnlyRootfs: false, mounts: [],
      stdoutPath: join(bundle, 'sandbox', 'stdout'), stderrPath: join(bundle, 'sandbox', 'stderr'),
    };
    const config = ociConfig(spec, image.config, {
      uid: 65534, gid: 65534, sandbox: join(bundle, 'sandbox'), cgroupsPath: `/mesos-ts/${id}`, swapLimit: swapLimitSupported(), network: 'host', hostname: hostname(),
      seccomp: defaultSeccomp(),
    });
    writeFileSync(join(bundle, 'config.json'), JSON.stringify(config));
    return { id, bundle, stdoutPath: spec.stdoutPath, stderrPath: spec.stderrPath };
  };
  const pidSeen = (bundle: string) => new Promise<void>((resolve) => {
    const w = watch(bundle, () => existsSync(join(bundle, PID_FILE)) && (w.close(), resolve()));
    if (existsSync(join(bundle, PID_FILE))) (w.close(), resolve());
  });
  const start: Record<Way, (b: Awaited<ReturnType<typeof prepare>>) => Promise<void>> = {
    agent: async (b) => {
      const seen = pidSeen(b.bundle);
      await runtime.supervise(b.id, b.bundle, b);
      await seen;
    },
    'agent, 2 O_SYNC appends beside': async (b) => {
      const seen = pidSeen(b.bundle);
      const records = (async () => {
        const handle = await open(join(b.bundle, 'updates'), 'as');
        await handle.writeFile('{"update":"' + 'x'.repeat(400) + '"}\n');
        await handle.writeFile('{"ack":"' + 'y'.repeat(24) + '"}\n');
        await handle.close();
      })();
      await runtime.supervise(b.id, b.bundle, b);
      await Promise.all([seen, records]);
    },
    'supervisor, -d': async (b) => {
      const seen = pidSeen(b.bundle);
      const ran = await shell.run(['runc', '--root', root, '--log', join(b.bundle, 'runtime.log'), '--log-format', 'json', 'run', '-d', '--bundle', b.bundle, '--pid-file', join(b.bundle, PID_FILE), b.id]);
      if (ran.code !== 0) throw new Error(ran.stderr);
      await seen;
    },
    'plain -d': async (b) => {
      const ran = await shell.run(['runc', '--root', root, 'run', '-d', '--bundle', b.bundle, b.id]);
      if (ran.code !== 0) throw new Error(ran.stderr);
    },
  };
  try {
    for (let i = -1; i < flags.launches; i++) {
      for (const way of WAYS) {
        const b = await prepare();
        const t0 = performance.now();
        await start[way](b);
        const took = performance.now() - t0;
        const usage = Number(readFileSync(`/sys/fs/cgroup/cpuacct/mesos-ts/${b.id}/cpuacct.usage`, 'utf8')) / 1e6;
        if (i >= 0) (times.get(way)!.push(took), cpu.get(way)!.push(usage));
        await runtime.delete(b.id);
        await rootfs.release(b.bundle);
        rmSync(b.bundle, { recursive: true, force: true });
      }
    }
  } finally {
    // After an error too: whatever container and mount of this run is left goes.
    for (const c of await runtime.list().catch(() => [])) await runtime.delete(c.id).catch(() => {});
    await unmountUnder(dir);
    runtime.close();
    shell.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const med = (xs: number[]) => percentile([...xs].sort((a, b) => a - b), 0.5);
  process.stdout.write(`${'way'.padEnd(34)}${'median ms'.padStart(11)}${'p90'.padStart(9)}${'cgroup cpu ms'.padStart(15)}\n`);
  for (const way of WAYS) {
    process.stdout.write(`${way.padEnd(34)}${med(times.get(way)!).toFixed(1).padStart(11)}${percentile([...times.get(way)!].sort((a, b) => a - b), 0.9).toFixed(1).padStart(9)}${med(cpu.get(way)!).toFixed(1).padStart(15)}\n`);
  }
  process.stdout.write(`${flags.launches} launches each way, interleaved; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}\n`);
}

main().catch((err: Error) => {
  process.stderr.write(`bench/runc-invocation.ts: ${err.stack}\n`);
  process.exit(1);
});

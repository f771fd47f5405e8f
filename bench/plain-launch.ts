// The yardsticks of the launch benchmarks (bench/launch.ts,
// bench/containerizer.ts): one container started without mesos-ts, timed,
// then removed untimed. Plain dockerode create+start with the Docker
// driver's settings, and plain `runc run -d` of a bundle made as the mesos
// containerizer makes it (same image, limits and overlay root; the bundle is
// prepared untimed; runc started by a long-lived shell, as the agent starts
// it). Both run `sleep 3600` as nobody. close() waits for the launch in
// flight and removes whatever of these containers is left (a run stopped by
// a signal or an error).
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { ociConfig } from '../agent/driver/oci/bundle.js';
import { swapLimitSupported } from '../agent/driver/oci/oci.js';
import { ImageStore, RootfsMaker } from '../agent/driver/oci/image-store.js';
import { CommandRuntime } from '../agent/driver/oci/runtime.js';
import { CommandShell } from '../agent/driver/oci/command-shell.js';
import { OCI_REGISTRY } from '../test/harness/oci.js';
import { Limiter } from '../common/limiter.js';

export const BENCH_IMAGE = 'mesos-ts/busybox:latest';

export interface Limits {
  readonly cpus: number;
  readonly memMiB: number;
}

/** The parts of an agent's config.json that confine its task: what plain runc can be given to compare like with like. */
export interface Confinement {
  /** linux.seccomp (absent: no filter). */
  readonly seccomp?: unknown;
  /** process.capabilities. */
  readonly capabilities: unknown;
}

export interface PlainLaunches {
  /** ms from createContainer to start() returning. */
  dockerode(): Promise<number>;
  /** ms of `runc run -d` (its bundle and overlay root made beforehand); with `confinement`, its seccomp filter and capabilities. */
  runc(confinement?: Confinement): Promise<number>;
  /**
   * `count` bundles started by `runc run -d`, at most `atOnce` at a time (default: all at once, as the
   * mesos containerizer's --oci_launch_parallelism bounds its own): ms from the first start until each returned.
   */
  runcBurst(count: number, atOnce?: number): Promise<number[]>;
  /** No more launches (each then rejects); once the one in flight is over, removes every container of these ways left. */
  close(): Promise<{ readonly runc: number; readonly docker: number }>;
}

/** The label of the plain Docker containers; its value is the directory given to plainLaunches (one run's own). */
export const PLAIN_LABEL = 'mesos-ts.bench';

export function plainLaunches(dir: string, limits: Limits): PlainLaunches {
  const docker = new Docker();
  const images = new ImageStore(OCI_REGISTRY, join(dir, 'store'));
  const rootfs = new RootfsMaker(() => {});
  const root = join(dir, 'runtime');
  const shell = new CommandShell(join(dir, 'commands'));
  const runtime = new CommandRuntime('runc', root, shell);
  let n = 0;
  let closed = false;
  let inFlight: Promise<unknown> = Promise.resolve();
  /** Runs one launch way, unless closed; close() waits for it. */
  const guarded = <T>(launch: () => Promise<T>): Promise<T> => {
    if (closed) return Promise.reject(new Error('the plain launches are closed'));
    const done = launch();
    inFlight = done.catch(() => {});
    return done;
  };
  const run = (cmd: string, args: string[]) => new Promise<number | null>((resolve) => spawn(cmd, args, { stdio: 'ignore' }).once('close', resolve));

  /** A bundle ready for `runc run -d`, and its removal. */
  const prepare = async (confinement?: Confinement): Promise<{ id: string; bundle: string }> => {
    const id = `plain-${process.pid}-${n++}`;
    const bundle = join(dir, id);
    mkdirSync(join(bundle, 'sandbox'), { recursive: true });
    const image = await images.provision(BENCH_IMAGE);
    const mount = await rootfs.make(image.rootfs, bundle);
    if (mount.length > 0) await run(mount[0]!, mount.slice(1));
    const spec = {
      image: BENCH_IMAGE, forcePull: false, command: { entrypoint: ['sleep', '3600'] }, env: {}, labels: {}, cpus: limits.cpus, memMiB: limits.memMiB,
      pidsLimit: 1024, privileged: false, user: 'nobody', capabilities: ['NET_BIND_SERVICE'], readOnlyRootfs: false, mounts: [],
      stdoutPath: join(bundle, 'sandbox', 'stdout'), stderrPath: join(bundle, 'sandbox', 'stderr'),
    };
    const config = ociConfig(spec, image.config, {
      uid: 65534, gid: 65534, sandbox: join(bundle, 'sandbox'), cgroupsPath: `/mesos-ts/${id}`, swapLimit: swapLimitSupported(), network: 'host', hostname: hostname(),
    }) as { process: Record<string, unknown>; linux: Record<string, unknown> };
    if (confinement) {
      config.process.capabilities = confinement.capabilities;
      if (confinement.seccomp !== undefined) config.linux.seccomp = confinement.seccomp;
    }
    writeFileSync(join(bundle, 'config.json'), JSON.stringify(config));
    return { id, bundle };
  };
  // Started by a long-lived shell, as the agent starts its containers: a Node spawn would add the fork of this
  // whole process (master, agent and scheduler of bench/launch) to every plain launch.
  const start = async ({ id, bundle }: { id: string; bundle: string }, t0: number): Promise<number> => {
    const ran = await shell.run(['runc', '--root', root, 'run', '-d', '--bundle', bundle, id]);
    if (ran.code !== 0) throw new Error(`runc run -d exited with ${ran.code}: ${ran.stderr.trim()}`);
    return performance.now() - t0;
  };
  const destroy = async ({ id, bundle }: { id: string; bundle: string }): Promise<void> => {
    await runtime.delete(id);
    await rootfs.release(bundle);
    rmSync(bundle, { recursive: true, force: true });
  };

  return {
    dockerode: () => guarded(async () => {
      const t0 = performance.now();
      const c = await docker.createContainer({
        Image: BENCH_IMAGE, Cmd: ['sleep', '3600'], User: 'nobody', Labels: { [PLAIN_LABEL]: dir },
        HostConfig: {
          NetworkMode: 'host', NanoCpus: limits.cpus * 1e9, Memory: limits.memMiB * 1024 * 1024, MemorySwap: limits.memMiB * 1024 * 1024, PidsLimit: 1024, Init: true,
          LogConfig: { Type: 'local', Config: { 'max-size': '8m', 'max-file': '1', compress: 'false' } },
        },
      });
      await c.start();
      const took = performance.now() - t0;
      await c.remove({ force: true });
      return took;
    }),
    runc: (confinement) => guarded(async () => {
      const b = await prepare(confinement);
      const took = await start(b, performance.now());
      await destroy(b);
      return took;
    }),
    runcBurst: (count, atOnce = count) => guarded(async () => {
      const bundles = [];
      try {
        for (let i = 0; i < count && !closed; i++) bundles.push(await prepare());
        const limiter = new Limiter(atOnce);
        const t0 = performance.now();
        return await Promise.all(bundles.map((b) => limiter.run(() => start(b, t0))));
      } finally {
        for (const b of bundles) await destroy(b);
      }
    }),
    async close() {
      closed = true;
      await inFlight;
      const left = await runtime.list();
      for (const c of left) await destroy({ id: c.id, bundle: join(dir, c.id) });
      const engine = await docker.listContainers({ all: true, filters: { label: [`${PLAIN_LABEL}=${dir}`] } });
      for (const c of engine) await docker.getContainer(c.Id).remove({ force: true });
      return { runc: left.length, docker: engine.length };
    },
  };
}

// The mesos containerizer's driver on a work_dir, as an agent on it builds it
// (runc, the image registry setup.sh fills), so that a test can launch, look
// at and remove that agent's OCI containers, by their recorded ids.
import { hostname } from 'node:os';
import { join } from 'node:path';
import { OciDriver, type OciDriverOptions } from '../../agent/driver/oci/oci.js';
import { CommandRuntime } from '../../agent/driver/oci/runtime.js';
import { ImageStore, RootfsMaker } from '../../agent/driver/oci/image-store.js';
import { RootPool } from '../../agent/driver/oci/root-pool.js';

/** Where setup.sh (scripts/build-oci-image.sh) puts the OCI task image; the agent's --docker_registry default. */
export const OCI_REGISTRY = process.env.MESOS_TS_DOCKER_REGISTRY ?? '/var/lib/mesos-ts/images';

export function ociDriverFor(workDir: string, log: (line: string) => void = () => {}, extra: Partial<OciDriverOptions> = {}): OciDriver {
  const stateDir = join(workDir, 'oci');
  return new OciDriver({
    ...extra,
    runtime: new CommandRuntime('runc', join(stateDir, 'runtime')), stateDir,
    images: new ImageStore(OCI_REGISTRY, join(workDir, 'store', 'docker')), rootfs: new RootfsMaker(log), hostname: hostname(),
  });
}

/** Kills and removes every OCI container recorded under these work_dirs, and their agents' pooled roots (a test's clean-up); returns how many. */
export async function removeOciContainers(workDirs: readonly string[]): Promise<number> {
  let removed = 0;
  for (const workDir of workDirs) {
    const driver = ociDriverFor(workDir);
    for (const c of await driver.list({})) {
      await driver.remove(c.id).catch(() => {});
      removed++;
    }
    // The roots a killed agent kept ready for launches.
    await new RootPool(join(workDir, 'oci', 'pool'), 0, () => {}).clearStale();
  }
  return removed;
}

// `mesos-ts image import FILE [--name REPO[:TAG]] [--docker_registry DIR]`:
// an image archive (docker save, or OCI) into the local registry the mesos
// containerizer provisions from (agent/driver/oci/image-import.ts).
import { resolve } from 'node:path';
import { parseFlags, usage } from '../common/flags.js';
import { InvalidArgument } from '../common/errors.js';

const IMAGE_FLAGS = {
  name: { type: 'string', help: "the image's name, REPO[:TAG] (default: the name the archive gives)" },
  docker_registry: { type: 'string', default: '/var/lib/mesos-ts/images', help: "the agents' --docker_registry directory" },
} as const;

export async function imageCommand(argv: string[]): Promise<number> {
  const flags = parseFlags(IMAGE_FLAGS, argv, { env: process.env });
  if (flags.help) {
    process.stdout.write(usage('image import FILE', "Puts a `docker save` or OCI image archive in the mesos containerizer's local registry, checked.", IMAGE_FLAGS) + '\n');
    return 0;
  }
  const [action, file, ...extra] = flags._;
  if (action !== 'import' || !file || extra.length > 0) throw new InvalidArgument('usage: mesos-ts image import FILE [--name REPO[:TAG]] [--docker_registry DIR]');
  const { importImage } = await import('../agent/driver/oci/image-import.js');
  const imported = await importImage(resolve(file), resolve(flags.docker_registry), flags.name);
  process.stdout.write(`imported ${imported.name} (${imported.format}) as ${imported.path}\n`);
  return 0;
}

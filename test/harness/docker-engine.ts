// A Docker engine of a test's own (common/hosts/docker-engine.ts: its own
// socket, data root, exec root and pid file, optionally on a simulated
// host), holding the test image. Task images are not pulled (there is no
// registry): the test image is saved once from the shared engine to a
// cached tar and loaded into each new engine.
import { existsSync, renameSync, statSync } from 'node:fs';
import Docker from 'dockerode';
import { DockerEngine as Engine, saveImages } from '../../common/hosts/docker-engine.js';
import { TEST_IMAGE } from './grpc-scheduler.js';

/** The saved test image, shared by every engine of every run (rebuilt when the shared engine's image is newer). */
const IMAGE_CACHE = '/tmp/mesos-ts-engine-image.tar';

export interface EngineOptions {
  /** Containers keep running while the engine is down (dockerd --live-restore). */
  readonly liveRestore: boolean;
  /** A network namespace (/var/run/netns/NAME) to start dockerd in, through `nsenter --net=`; containers with host networking then live there. */
  readonly netns?: string;
}

export type DockerEngine = Engine;

export const DockerEngine = {
  /** A new engine in a fresh /tmp/mts-engine-XXXXXX, answering and holding the test image. */
  async start(options: EngineOptions): Promise<DockerEngine> {
    savedImage ??= saveTestImage();
    return Engine.start({ ...options, load: await savedImage });
  },
};

let savedImage: Promise<string> | undefined;

/** The test image saved from the shared engine, once per process (another run's file is reused unless the image is newer). */
async function saveTestImage(): Promise<string> {
  const inspected = await new Docker().getImage(TEST_IMAGE).inspect().catch((err: unknown) => {
    // The shared engine down: another run's saved image still does; without one there is nothing to load.
    if (existsSync(IMAGE_CACHE)) return null;
    throw err;
  });
  if (!inspected) return IMAGE_CACHE;
  const created = Date.parse(inspected.Created);
  if (!existsSync(IMAGE_CACHE) || statSync(IMAGE_CACHE).mtimeMs < created) {
    const tmp = `${IMAGE_CACHE}.${process.pid}.${Date.now()}`;
    await saveImages([TEST_IMAGE], tmp);
    renameSync(tmp, IMAGE_CACHE);
  }
  return IMAGE_CACHE;
}

// Which containerizer `mesos-ts local` runs its agents and demo on
// (--containerizer, as mesos-execute names it). 'auto', the default, takes
// Docker when an engine answers and otherwise says so in one line and takes
// the mesos containerizer (runc and the local image registry), so that the
// demo runs on a machine with no Docker engine; 'docker' insists on an
// engine (a clear error without one), 'mesos' never asks for one. Falling
// back by default rather than behind a flag: `local` is the first command a
// newcomer runs, and both paths run the same demo.
import type Docker from 'dockerode';
import { InvalidArgument } from '../common/errors.js';

export type LocalContainerizer = 'docker' | 'mesos';
const CHOICES = ['auto', 'docker', 'mesos'] as const;

/** Where the engine is looked for: DOCKER_HOST (unix:// only, as the agents dial a socket) or Docker's default socket. */
export function dockerSocket(env: NodeJS.ProcessEnv): { socketPath: string } | { unusable: string } {
  const host = env.DOCKER_HOST;
  if (!host) return { socketPath: '/var/run/docker.sock' };
  if (host.startsWith('unix://')) return { socketPath: host.slice('unix://'.length) };
  return { unusable: `DOCKER_HOST=${host} (mesos-ts agents dial a unix socket only)` };
}

export interface LocalChoice {
  readonly containerizer: LocalContainerizer;
  /** The engine's client, when the demo runs on Docker. */
  readonly docker: Docker | null;
  /** The agents' --docker_socket. */
  readonly socketPath: string;
}

export async function chooseContainerizer(
  choice: string, image: string, env: NodeJS.ProcessEnv, DockerClass: typeof Docker, say: (line: string) => void,
): Promise<LocalChoice> {
  if (!(CHOICES as readonly string[]).includes(choice)) throw new InvalidArgument(`--containerizer must be one of ${CHOICES.join(', ')}, got '${choice}'`);
  const where = dockerSocket(env);
  const socketPath = 'socketPath' in where ? where.socketPath : '/var/run/docker.sock';
  if (choice === 'mesos') return { containerizer: 'mesos', docker: null, socketPath };
  let problem: string;
  if ('socketPath' in where) {
    const docker = new DockerClass({ socketPath: where.socketPath });
    try {
      await docker.ping();
      try {
        await docker.getImage(image).inspect();
      } catch {
        throw new Error(`image ${image} is missing from the Docker engine at ${where.socketPath}; run \`bash scripts/build-images.sh\``);
      }
      return { containerizer: 'docker', docker, socketPath };
    } catch (err) {
      if (!(err as Error).message.startsWith('image ')) problem = `no Docker engine answers at ${where.socketPath}`;
      else if (choice === 'docker') throw err;
      else problem = (err as Error).message;
    }
  } else {
    problem = `no Docker engine usable at ${where.unusable}`;
  }
  if (choice === 'docker') throw new Error(`${problem}; run \`bash scripts/setup.sh\` (or \`npm run local\`, which does), or run with --containerizer=mesos`);
  say(`${problem}: running the demo on the mesos containerizer (runc, images from the local registry) instead; --containerizer=docker insists on Docker`);
  return { containerizer: 'mesos', docker: null, socketPath };
}

// TaskInfo for a command run in a container: through the Docker engine
// (ContainerInfo.type DOCKER, the default) or the agent's own mesos
// containerizer (type MESOS, the image by name in mesos.image, as Mesos
// shapes it; agents started with --containerizers=...,mesos). Checks its
// input once, naming the field.
//
// The command follows Mesos's Docker containerizer: a shell command runs as
// `/bin/sh -c "<command>"` (CommandInfo.shell = true); argv runs without a
// shell as `value = argv[0]`, `arguments = argv[1..]`; with neither, the
// image's own entrypoint and cmd run.
import type { OfferOut, ResourceIn, TaskInfoIn } from '../../proto/index.js';
import { InvalidArgument } from '../../common/errors.js';
import type { Resources } from '../../common/resources.js';

/** Which of the agent's containerizers runs the task (mesos-execute's --containerizer). */
export type Containerizer = 'docker' | 'mesos';

/** --containerizer, as mesos-execute takes it; InvalidArgument names the flag. */
export function parseContainerizer(text: string, flag = '--containerizer'): Containerizer {
  if (text !== 'docker' && text !== 'mesos') throw new InvalidArgument(`${flag} must be 'docker' or 'mesos', got '${text}'`);
  return text;
}

/** The Docker network mode of the task's container. */
export type DockerNetwork = 'HOST' | 'BRIDGE' | 'NONE';

/** What {@link dockerTask} builds a TaskInfo from. */
export interface DockerTaskSpec {
  /** Unique among this framework's live tasks; no whitespace or '/'. */
  readonly taskId: string;
  /** Default: the task id. */
  readonly name?: string;
  /** The agent of the offer the task is launched from. */
  readonly agentId: string;
  /** What the task takes from the offer (see matching.ts). */
  readonly resources: Resources;
  /** The role the offer was allocated to; stamped on each resource as MULTI_ROLE frameworks must. See allocationRoleOf(). */
  readonly allocationRole?: string;
  /** The Docker image; an agent started with --docker_pull=never fails the task unless the image is there already. */
  readonly image: string;
  /** Default 'docker'. 'mesos' runs the image from the agent's local image store (nothing is pulled). */
  readonly containerizer?: Containerizer;
  /** A shell command line. */
  readonly command?: string;
  /** Or a program and its arguments, run without a shell. */
  readonly argv?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  readonly labels?: Readonly<Record<string, string>>;
  /** Time between SIGTERM and SIGKILL when the task is killed. Default: the agent's. */
  readonly killGracePeriodSeconds?: number;
  /** Default HOST. */
  readonly network?: DockerNetwork;
  readonly forcePullImage?: boolean;
  /** The agent fails the task if it runs longer. */
  readonly maxCompletionTimeSeconds?: number;
}

const TASK_ID = /^[^\s/]+$/;

/** A TaskInfo that runs a command (or argv, or the image's own entrypoint) in a Docker container, as Mesos's Docker containerizer does; throws InvalidArgument naming a bad field. */
export function dockerTask(spec: DockerTaskSpec): TaskInfoIn {
  if (!TASK_ID.test(spec.taskId) || spec.taskId === '.' || spec.taskId === '..') {
    throw new InvalidArgument(`task id '${spec.taskId}' must be non-empty and hold no whitespace or '/'`);
  }
  if (!spec.agentId) throw new InvalidArgument(`task '${spec.taskId}': agentId is required`);
  if (!spec.image) throw new InvalidArgument(`task '${spec.taskId}': a Docker image is required`);
  if (spec.command !== undefined && spec.argv !== undefined) throw new InvalidArgument(`task '${spec.taskId}': give command or argv, not both`);
  if (spec.command !== undefined && spec.command.trim() === '') throw new InvalidArgument(`task '${spec.taskId}': command is empty`);
  if (spec.argv !== undefined && (spec.argv.length === 0 || !spec.argv[0])) throw new InvalidArgument(`task '${spec.taskId}': argv is empty`);
  if (spec.resources.isEmpty()) throw new InvalidArgument(`task '${spec.taskId}': resources are empty`);
  const containerizer = spec.containerizer ?? 'docker';
  if (containerizer !== 'docker' && containerizer !== 'mesos') throw new InvalidArgument(`task '${spec.taskId}': containerizer must be 'docker' or 'mesos', got '${String(containerizer)}'`);
  if (containerizer === 'mesos' && spec.forcePullImage) throw new InvalidArgument(`task '${spec.taskId}': forcePullImage needs the docker containerizer (the mesos one never pulls)`);
  if (containerizer === 'mesos' && (spec.network ?? 'HOST') !== 'HOST') throw new InvalidArgument(`task '${spec.taskId}': the mesos containerizer takes network HOST only, got ${spec.network}`);
  if (containerizer === 'mesos' && spec.command === undefined && spec.argv === undefined) throw new InvalidArgument(`task '${spec.taskId}': the mesos containerizer needs a command or argv`);
  return {
    name: spec.name ?? spec.taskId,
    task_id: { value: spec.taskId },
    agent_id: { value: spec.agentId },
    resources: withAllocationRole(spec.resources.toProto(), spec.allocationRole),
    command: {
      ...commandValue(spec),
      ...(spec.env && { environment: { variables: Object.entries(spec.env).map(([name, value]) => ({ name, type: 'VALUE' as const, value })) } }),
    },
    container: containerizer === 'mesos'
      ? { type: 'MESOS', mesos: { image: { type: 'DOCKER', docker: { name: spec.image } } } }
      : { type: 'DOCKER', docker: { image: spec.image, network: spec.network ?? 'HOST', ...(spec.forcePullImage !== undefined && { force_pull_image: spec.forcePullImage }) } },
    ...(spec.labels && { labels: { labels: Object.entries(spec.labels).map(([key, value]) => ({ key, value })) } }),
    ...(spec.killGracePeriodSeconds !== undefined && { kill_policy: { grace_period: { nanoseconds: seconds(spec.killGracePeriodSeconds, 'killGracePeriodSeconds', spec.taskId) } } }),
    ...(spec.maxCompletionTimeSeconds !== undefined && { max_completion_time: { nanoseconds: seconds(spec.maxCompletionTimeSeconds, 'maxCompletionTimeSeconds', spec.taskId) } }),
  };
}

function commandValue(spec: DockerTaskSpec): { shell: boolean; value?: string; arguments?: string[] } {
  if (spec.command !== undefined) return { shell: true, value: spec.command };
  if (spec.argv !== undefined) return { shell: false, value: spec.argv[0]!, arguments: spec.argv.slice(1) };
  return { shell: false };
}

function seconds(value: number, field: string, taskId: string): number {
  if (!(value >= 0) || !Number.isFinite(value)) throw new InvalidArgument(`task '${taskId}': ${field} must be a non-negative number, got ${value}`);
  return Math.round(value * 1e9);
}

function withAllocationRole(resources: ResourceIn[], role: string | undefined): ResourceIn[] {
  return role ? resources.map((r) => ({ ...r, allocation_info: { role } })) : resources;
}

/** The role an offer's resources were allocated to, if the master says. */
export function allocationRoleOf(offer: Pick<OfferOut, 'resources' | 'allocation_info'>): string | undefined {
  return offer.allocation_info?.role || offer.resources.find((r) => r.allocation_info?.role)?.allocation_info?.role || undefined;
}

// Named points on a task's way from the scheduler's ACCEPT to its
// TASK_RUNNING (SDK, master's gRPC adapters, agent, Docker driver), so that
// bench/launch can say where the time goes, hop by hop. They are published on
// a diagnostics channel only while something subscribes (the benchmark does);
// otherwise each point costs one boolean check.
import { channel, subscribe, unsubscribe } from 'node:diagnostics_channel';

export const LAUNCH_TRACE_CHANNEL = 'mesos-ts:launch';

export interface LaunchHop {
  readonly taskId: string;
  /** 'who: what', e.g. 'agent: RunTask received'. */
  readonly hop: string;
  /** performance.now() of this process. */
  readonly at: number;
}

const launchChannel = channel(LAUNCH_TRACE_CHANNEL);

/** True while someone listens: callers guard work done only to name the hop (finding task ids). */
export function tracingLaunches(): boolean {
  return launchChannel.hasSubscribers;
}

export function traceLaunch(taskId: string | undefined | null, hop: string): void {
  if (launchChannel.hasSubscribers && taskId) launchChannel.publish({ taskId, hop, at: performance.now() } satisfies LaunchHop);
}

/** Calls `onHop` for every hop until the returned function is called. */
export function onLaunchHop(onHop: (hop: LaunchHop) => void): () => void {
  const listener = (message: unknown) => onHop(message as LaunchHop);
  subscribe(LAUNCH_TRACE_CHANNEL, listener);
  return () => void unsubscribe(LAUNCH_TRACE_CHANNEL, listener);
}

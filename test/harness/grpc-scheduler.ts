// A bare gRPC scheduler client for tests that need to send exactly the
// bytes or calls a misbehaving framework would (the SDK would refuse to).
import * as grpc from '@grpc/grpc-js';
import { grpcObject, type CallIn, type EventOut, type OfferOut, type SchedulerClient, type TaskInfoIn } from '../../proto/index.js';
import { Resources } from '../../common/resources.js';
import type { Credential } from '../../common/credentials.js';
import { messageSizeOptions } from '../../common/grpc-limits.js';
import { channelCredentials, withCredential } from '../../common/grpc-credentials.js';
import type { Tls } from '../../common/tls.js';
import { STREAM_ID_KEY } from '../../common/stream-id.js';

export const TEST_IMAGE = 'mesos-ts/busybox:latest';

/** Matches the UPDATE of task `taskId` to `state`, for next(). */
export const isUpdate = (taskId: string, state: string) => (e: EventOut): boolean =>
  e.type === 'UPDATE' && e.update?.status?.task_id?.value === taskId && e.update.status.state === state;

/** A shell command task in the test image, for the offer's agent. */
export function commandTask(id: string, offer: OfferOut, command: string, resources = 'cpus:0.1;mem:32'): TaskInfoIn {
  return {
    name: id, task_id: { value: id }, agent_id: offer.agent_id, resources: Resources.parse(resources).toProto(),
    command: { value: command, shell: true }, container: { type: 'DOCKER', docker: { image: TEST_IMAGE } },
  };
}

export class RawScheduler {
  readonly client: SchedulerClient;
  readonly events: EventOut[] = [];
  streamId = '';
  frameworkId = '';
  private stream: grpc.ClientReadableStream<EventOut> | null = null;
  private waiters: (() => void)[] = [];
  /** Acknowledge every update that carries a uuid as it arrives, as a well-behaved scheduler does. */
  autoAcknowledge = false;

  /** `credential`, when given, goes with every call (for a master that authenticates frameworks); `tls`, the channel's TLS. */
  constructor(address: string, credential?: Credential, tls: Tls | null = null) {
    this.client = new grpcObject.mesos_ts.Scheduler(address, channelCredentials(tls), withCredential(messageSizeOptions(), credential)) as unknown as SchedulerClient;
  }

  async subscribe(info: NonNullable<NonNullable<CallIn['subscribe']>['framework_info']>): Promise<EventOut> {
    const stream = this.client.Subscribe({ type: 'SUBSCRIBE', subscribe: { framework_info: info } });
    this.stream = stream;
    stream.on('metadata', (md) => (this.streamId = String(md.get(STREAM_ID_KEY)[0] ?? '')));
    stream.on('data', (event: EventOut) => {
      if (event.type === 'SUBSCRIBED') this.frameworkId = event.subscribed!.framework_id!.value;
      this.events.push(event);
      const st = event.update?.status;
      if (this.autoAcknowledge && st && st.uuid.length > 0) {
        void this.call('Acknowledge', { type: 'ACKNOWLEDGE', acknowledge: { agent_id: st.agent_id, task_id: st.task_id, uuid: st.uuid } }).catch(() => {});
      }
      for (const w of this.waiters.splice(0)) w();
    });
    stream.on('error', () => {});
    return this.next((e) => e.type === 'SUBSCRIBED' || e.type === 'ERROR', 10_000);
  }

  /** Waits for the first event (already seen or future) matching `pred`. */
  async next(pred: (e: EventOut) => boolean, timeoutMs = 15_000): Promise<EventOut> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.find(pred);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no matching event within ${timeoutMs} ms; saw ${this.events.map(describe).join(', ')}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
  }

  call(method: string, call: CallIn, streamId = this.streamId): Promise<void> {
    const md = new grpc.Metadata();
    if (streamId) md.set(STREAM_ID_KEY, streamId);
    const fn = (this.client as unknown as Record<string, Function>)[method]!.bind(this.client);
    return new Promise((resolve, reject) => fn({ framework_id: { value: this.frameworkId }, ...call }, md, (err: Error | null) => (err ? reject(err) : resolve())));
  }

  /** ACCEPT of one offer with a LAUNCH of `tasks`. */
  launch(offer: OfferOut, tasks: TaskInfoIn[], refuseSeconds = 0): Promise<void> {
    return this.call('Accept', {
      type: 'ACCEPT',
      accept: { offer_ids: [offer.id!], operations: [{ type: 'LAUNCH', launch: { task_infos: tasks } }], filters: { refuse_seconds: refuseSeconds } },
    });
  }

  close(): void {
    this.stream?.cancel();
    this.client.close();
  }
}

function describe(e: EventOut): string {
  if (e.type === 'UPDATE') return `UPDATE(${e.update?.status?.task_id?.value}:${e.update?.status?.state}${e.update?.status?.message ? ` "${e.update.status.message}"` : ''})`;
  if (e.type === 'OFFERS') return `OFFERS(${e.offers?.offers.map((o) => o.id?.value.split('-').pop()).join('+')})`;
  return e.type;
}

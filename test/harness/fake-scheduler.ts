// A stand-in for the SDK's Scheduler in unit tests of code that drives one
// (framework/apps/runtime.ts): it records every call and lets the test emit
// events (`emit('offers', ...)`, `emit('update', ...)`) as the master would.
// Integration tests use the real Scheduler against real masters.
import { EventEmitter } from 'node:events';
import type { SchedulerEventMap } from '../../framework/sdk/events.js';
import type { ReconcileTask, OfferRef } from '../../framework/sdk/calls.js';
import type { OfferOut, TaskInfoIn, TaskStatusOut } from '../../proto/index.js';
import { Resources } from '../../common/resources.js';

export type FakeCall =
  | { readonly call: 'reconcile'; readonly tasks: readonly ReconcileTask[] }
  | { readonly call: 'kill'; readonly taskId: string }
  | { readonly call: 'launch'; readonly offerId: string; readonly tasks: readonly TaskInfoIn[] }
  | { readonly call: 'decline'; readonly offerIds: readonly string[]; readonly refuseSeconds?: number }
  | { readonly call: 'acknowledge'; readonly taskId: string }
  | { readonly call: 'revive' | 'suppress' };

export class FakeScheduler extends EventEmitter<SchedulerEventMap> {
  readonly calls: FakeCall[] = [];

  async reconcile(tasks: readonly ReconcileTask[] = []): Promise<void> {
    this.calls.push({ call: 'reconcile', tasks });
  }

  async kill(taskId: string): Promise<void> {
    this.calls.push({ call: 'kill', taskId });
  }

  async launch(offers: OfferRef | readonly OfferRef[], tasks: readonly TaskInfoIn[]): Promise<void> {
    const first = Array.isArray(offers) ? offers[0] : offers;
    this.calls.push({ call: 'launch', offerId: typeof first === 'string' ? first : (first?.id?.value ?? ''), tasks });
  }

  async decline(offers: OfferRef | readonly OfferRef[], options: { refuseSeconds?: number } = {}): Promise<void> {
    const list = (Array.isArray(offers) ? offers : [offers]) as OfferRef[];
    this.calls.push({ call: 'decline', offerIds: list.map((o) => (typeof o === 'string' ? o : (o.id?.value ?? ''))), ...(options.refuseSeconds !== undefined && { refuseSeconds: options.refuseSeconds }) });
  }

  async acknowledge(status: TaskStatusOut): Promise<void> {
    this.calls.push({ call: 'acknowledge', taskId: status.task_id?.value ?? '' });
  }

  async revive(): Promise<void> {
    this.calls.push({ call: 'revive' });
  }

  async suppress(): Promise<void> {
    this.calls.push({ call: 'suppress' });
  }

  /** The calls of one kind, in order. */
  of<K extends FakeCall['call']>(call: K): Extract<FakeCall, { call: K }>[] {
    return this.calls.filter((c): c is Extract<FakeCall, { call: K }> => c.call === call);
  }
}

/** An offer as the master sends it, from resource text. */
export function fakeOffer(id: string, hostname: string, resources: string, attributes: Record<string, string> = {}): OfferOut {
  return {
    id: { value: id }, agent_id: { value: `agent-${hostname}` }, hostname,
    resources: Resources.parse(resources).toProto(),
    attributes: Object.entries(attributes).map(([name, value]) => ({ name, type: 'TEXT', text: { value } })),
  } as unknown as OfferOut;
}

/** A status update as the master sends it. */
export function fakeStatus(taskId: string, state: string, extra: Partial<TaskStatusOut> = {}): TaskStatusOut {
  return { task_id: { value: taskId }, agent_id: { value: 'agent-h1' }, state, ...extra } as unknown as TaskStatusOut;
}

// Identifiers, in Mesos's shapes: a master id (UUID), framework ids
// `<master id>-<4 digits>`, agent ids `<master id>-S<n>`, offer ids
// `<master id>-O<n>`. Generators take the master id and count from zero; the
// caller owns the counter so tests get stable ids.
import { randomUUID } from 'node:crypto';

export type Brand<T, B extends string> = T & { readonly __brand: B };
export type FrameworkId = Brand<string, 'FrameworkId'>;
export type AgentId = Brand<string, 'AgentId'>;
export type OfferId = Brand<string, 'OfferId'>;
export type TaskId = Brand<string, 'TaskId'>;

export const newMasterId = (): string => randomUUID();

export class IdGenerator {
  private frameworks = 0;
  private agents = 0;
  private offers = 0;

  constructor(readonly masterId: string) {}

  framework(): FrameworkId {
    return `${this.masterId}-${String(this.frameworks++).padStart(4, '0')}` as FrameworkId;
  }

  agent(): AgentId {
    return `${this.masterId}-S${this.agents++}` as AgentId;
  }

  offer(): OfferId {
    return `${this.masterId}-O${this.offers++}` as OfferId;
  }
}

/** A task is unique within its framework; this key is unique in the cluster. */
export const taskKey = (frameworkId: string, taskId: string): string => `${frameworkId}/${taskId}`;

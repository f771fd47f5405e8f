// Marathon's event bus: what GET /v2/events streams as server-sent events
// (`event: <eventType>` then `data: <json>`). Listeners are called in order
// and a throwing one is dropped, so one broken stream cannot stop the others.
export type AppsEventType =
  | 'api_post_event' | 'status_update_event' | 'instance_changed_event' | 'health_status_changed_event' | 'deployment_info'
  | 'deployment_step_success' | 'deployment_success' | 'deployment_failed' | 'app_terminated_event' | 'failed_health_check_event'
  | 'autoscale_decision_event';

export interface AppsEvent {
  readonly eventType: AppsEventType;
  readonly timestamp: string;
  readonly [field: string]: unknown;
}

export class EventBus {
  private readonly listeners = new Set<(e: AppsEvent) => void>();

  subscribe(listener: (e: AppsEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  publish(eventType: AppsEventType, timestamp: string, body: Record<string, unknown>): void {
    const event: AppsEvent = { eventType, timestamp, ...body };
    for (const l of this.listeners) {
      try {
        l(event);
      } catch {
        this.listeners.delete(l);
      }
    }
  }

  get size(): number {
    return this.listeners.size;
  }
}

/** One server-sent event. */
export function sseFrame(e: AppsEvent): string {
  return `event: ${e.eventType}\ndata: ${JSON.stringify(e)}\n\n`;
}

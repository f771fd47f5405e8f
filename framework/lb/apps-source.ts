// Where the balancer learns the apps: a Marathon-style apps API (mesos-ts
// apps, or Marathon itself) at one or more URLs. It reads
// GET /v2/apps?embed=apps.tasks&embed=apps.readiness for the whole truth and
// follows GET /v2/events (server-sent events) only to know when to read it
// again, as marathon-lb does: an event never edits the routing by itself,
// so a missed or reordered event costs a moment, never a wrong route.
import { Unavailable } from '../../common/errors.js';
import type { Fetch } from '../../common/tls-fetch.js';
import { fetchFollowingLeader } from '../apps/leader-fetch.js';
import type { MarathonApp } from './model.js';

export interface AppsSourceOptions {
  /** Base URLs of the apps API (several: tried in turn; a standby redirects to its leader). */
  readonly urls: readonly string[];
  /** An Authorization header value for an API that authenticates. */
  readonly authorization?: string | undefined;
  readonly timeoutMs?: number;
  /** The fetch to use (common/tls-fetch.ts's under TLS); default the global one. */
  readonly fetch?: Fetch;
}

/** Events after which the routing may have changed. */
export const ROUTING_EVENTS = new Set([
  'status_update_event', 'health_status_changed_event', 'api_post_event', 'app_terminated_event', 'instance_changed_event',
  'deployment_info', 'deployment_step_success', 'deployment_success', 'deployment_failed', 'instance_health_changed_event',
]);

export class AppsSource {
  private preferred = 0;

  constructor(private readonly options: AppsSourceOptions) {
    if (options.urls.length === 0) throw new Unavailable('no apps API URL given (--apps http://HOST:PORT)');
  }

  private get fetchFn(): Fetch {
    return this.options.fetch ?? fetch;
  }

  private headers(accept: string): Record<string, string> {
    return { Accept: accept, ...(this.options.authorization ? { Authorization: this.options.authorization } : {}) };
  }

  /** Every app with its tasks, from the first URL that answers. */
  async apps(signal?: AbortSignal): Promise<MarathonApp[]> {
    const errors: string[] = [];
    for (let i = 0; i < this.options.urls.length; i++) {
      const index = (this.preferred + i) % this.options.urls.length;
      const base = this.options.urls[index]!.replace(/\/+$/, '');
      try {
        const res = await fetchFollowingLeader(this.fetchFn, `${base}/v2/apps?embed=apps.tasks&embed=apps.readiness`, {
          headers: this.headers('application/json'),
          signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(this.options.timeoutMs ?? 10_000)]) : AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
        });
        if (res.status === 401) throw new Error(`answered 401: ${this.options.authorization ? 'the credential was refused' : 'it needs a credential (--principal/--secret or --credential)'}`);
        if (res.status !== 200) throw new Error(`answered ${res.status}`);
        const body = (await res.json()) as { apps?: unknown };
        if (!Array.isArray(body.apps)) throw new Error('answered without an "apps" list');
        this.preferred = index;
        return body.apps as MarathonApp[];
      } catch (err) {
        errors.push(`${base}: ${(err as Error).message}`);
      }
    }
    throw new Unavailable(`no apps API answered: ${errors.join('; ')}`);
  }

  /**
   * Follows the event stream of the API that last answered; calls `onEvent`
   * with each event's type. Resolves when the stream ends (the caller
   * reconnects), rejects when it cannot be opened.
   */
  async follow(onEvent: (type: string) => void, signal: AbortSignal): Promise<void> {
    const base = this.options.urls[this.preferred]!.replace(/\/+$/, '');
    const res = await fetchFollowingLeader(this.fetchFn, `${base}/v2/events`, { headers: this.headers('text/event-stream'), signal });
    if (res.status !== 200 || !res.body) throw new Unavailable(`${base}/v2/events answered ${res.status}`);
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buffer.search(/\r?\n\r?\n/)) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, '');
        const type = /^event:\s*(.+)$/m.exec(block)?.[1]?.trim();
        if (type) onEvent(type);
      }
    }
  }
}

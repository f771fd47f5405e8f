// The balancer's loop: read the apps, compute the routing (model.ts), make
// HAProxy route that way with as little disturbance as possible.
//
//   event or timer -> sync (coalesced: one runs, one more may wait)
//     same shape   -> runtime API: add + enable new servers,
//                     drain servers that left (no new connections)
//     other shape  -> write the file, seamless reload
//   drain tick     -> a drained server with no connections left, or past
//                     --drain_seconds, is put in maintenance, its sessions
//                     shut and the server deleted
//
// The file is rewritten on every change, so a reload or a restart of HAProxy
// starts from the current servers.
import type { Logger } from '../../common/log/logger.js';
import { errorMessage } from '../../common/errors.js';
import type { AppsSource } from './apps-source.js';
import { ROUTING_EVENTS } from './apps-source.js';
import { renderConfig, shapeOf, type HaproxySettings } from './haproxy-config.js';
import type { Haproxy } from './haproxy.js';
import { routing as routingOf, type Routing, type RoutingOptions, type Server } from './model.js';

export interface BalancerOptions {
  readonly source: AppsSource;
  readonly haproxy: Haproxy;
  readonly settings: HaproxySettings;
  readonly routing: RoutingOptions;
  /** Longest a drained server keeps its connections before they are shut. */
  readonly drainSeconds: number;
  /** A full read of the apps this often even without events. */
  readonly resyncSeconds: number;
  readonly logger: Logger;
}

/** What the balancer did, for its owner (the CLI prints it; tests wait on it). */
export interface SyncReport {
  readonly reloaded: boolean;
  readonly added: number;
  readonly drained: number;
  readonly servers: number;
  readonly skipped: readonly string[];
}

interface Draining {
  readonly backend: string;
  readonly server: string;
  readonly since: number;
}

export class Balancer {
  private current: Routing = { frontends: [], backends: [], vhosts: [] };
  private shape: string | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private readonly draining = new Map<string, Draining>();
  private readonly abort = new AbortController();
  private timers: NodeJS.Timeout[] = [];
  private lastSkipped = '';
  /** Called after every sync that changed something. */
  onSync: (report: SyncReport) => void = () => {};

  constructor(private readonly options: BalancerOptions) {}

  /** Starts HAProxy on the current apps (or none, when the API does not answer yet) and keeps it in step. */
  async start(): Promise<void> {
    let first: Routing = this.current;
    try {
      first = this.compute(await this.options.source.apps());
    } catch (err) {
      this.options.logger.warn(`starting with no routes: ${errorMessage(err)}; retrying`);
    }
    await this.options.haproxy.write(renderConfig(first, this.options.settings));
    await this.options.haproxy.start();
    this.current = first;
    this.shape = shapeOf(first, this.options.settings);
    this.report({ reloaded: true, added: count(first), drained: 0, servers: count(first), skipped: [] });
    this.timers.push(setInterval(() => this.requestSync(), this.options.resyncSeconds * 1000));
    this.timers.push(setInterval(() => void this.drainTick().catch((err) => this.options.logger.warn(`drain: ${errorMessage(err)}`)), 500));
    void this.followEvents();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    for (const t of this.timers) clearInterval(t);
    await this.running?.catch(() => {});
    await this.options.haproxy.stop();
  }

  /** Reads the apps again soon; calls arriving while a sync runs make one more, not one each. */
  requestSync(): void {
    if (this.abort.signal.aborted) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.sync()
      .catch((err) => this.options.logger.warn(`sync failed, keeping the current routes: ${errorMessage(err)}`))
      .finally(() => {
        this.running = null;
        if (this.again) {
          this.again = false;
          this.requestSync();
        }
      });
  }

  /** Resolves once no sync runs or waits (tests; the CLI's --once). */
  async settled(): Promise<void> {
    while (this.running) await this.running;
  }

  private compute(apps: Parameters<typeof routingOf>[0]): Routing {
    const { routing, skipped } = routingOf(apps, this.options.routing);
    const text = skipped.join('\n');
    if (text !== this.lastSkipped) for (const s of skipped) this.options.logger.warn(`not routed: ${s}`);
    this.lastSkipped = text;
    return routing;
  }

  private async sync(): Promise<void> {
    const next = this.compute(await this.options.source.apps(this.abort.signal));
    const shape = shapeOf(next, this.options.settings);
    if (shape !== this.shape) return this.reloadWith(next, shape);
    try {
      await this.applyServers(next);
    } catch (err) {
      // A runtime change refused half-way (a server deleted by the drain meanwhile, ...) would be retried and refused
      // for ever: a reload from the file puts HAProxy exactly where the routing says instead.
      this.options.logger.warn(`runtime change failed (${errorMessage(err)}); reloading HAProxy from the routing instead`);
      await this.reloadWith(next, shape);
    }
  }

  private async reloadWith(next: Routing, shape: string): Promise<void> {
    await this.options.haproxy.write(renderConfig(next, this.options.settings));
    await this.options.haproxy.reload();
    this.shape = shape;
    this.current = next;
    this.draining.clear(); // The old worker finishes its connections; the new one never had them.
    this.report({ reloaded: true, added: 0, drained: 0, servers: count(next), skipped: [] });
  }

  /** The servers of `next` through the runtime API: added, moved, or drained; the file rewritten to match. */
  private async applyServers(next: Routing): Promise<void> {
    let added = 0;
    let drained = 0;
    for (const backend of next.backends) {
      const before = new Map((this.current.backends.find((b) => b.name === backend.name)?.servers ?? []).map((s) => [s.name, s]));
      const after = new Map(backend.servers.map((s) => [s.name, s]));
      for (const server of backend.servers) {
        const was = before.get(server.name);
        if (!was) {
          await this.addServer(backend.name, server);
          added++;
        } else if (was.host !== server.host || was.port !== server.port) {
          await this.options.haproxy.command(`set server ${backend.name}/${server.name} addr ${server.host} port ${server.port}`);
        }
      }
      for (const name of before.keys()) {
        if (after.has(name) || this.draining.has(`${backend.name}/${name}`)) continue;
        await this.options.haproxy.command(`set server ${backend.name}/${name} state drain`);
        this.draining.set(`${backend.name}/${name}`, { backend: backend.name, server: name, since: performance.now() });
        drained++;
      }
    }
    // The file lists the serving servers only: a reload meanwhile leaves the draining ones to the old worker, which finishes their connections.
    await this.options.haproxy.write(renderConfig(next, this.options.settings));
    this.current = next;
    if (added > 0 || drained > 0) this.report({ reloaded: false, added, drained, servers: count(next), skipped: [] });
  }

  private async addServer(backend: string, server: Server): Promise<void> {
    const key = `${backend}/${server.name}`;
    if (this.draining.delete(key)) {
      // Back before it was deleted: serve it again.
      await this.options.haproxy.command(`set server ${key} addr ${server.host} port ${server.port}`, `set server ${key} state ready`);
      return;
    }
    await this.options.haproxy.command(`add server ${key} ${server.host}:${server.port}`, `enable server ${key}`);
  }

  private async drainTick(): Promise<void> {
    if (this.draining.size === 0 || this.running) return;
    const backends = new Set([...this.draining.values()].map((d) => d.backend));
    for (const backend of backends) {
      const states = new Map((await this.options.haproxy.servers(backend)).map((s) => [s.name, s]));
      for (const [key, d] of this.draining) {
        if (d.backend !== backend) continue;
        const state = states.get(d.server);
        const overdue = performance.now() - d.since >= this.options.drainSeconds * 1000;
        if (state && state.connections > 0 && !overdue) continue;
        if (state) {
          await this.options.haproxy.command(`set server ${key} state maint`, `shutdown sessions server ${key}`, `del server ${key}`);
        }
        this.draining.delete(key);
        this.options.logger.info(`removed ${key}${overdue && (state?.connections ?? 0) > 0 ? ` (${state!.connections} connections cut after ${this.options.drainSeconds} s)` : ''}`);
      }
    }
  }

  private async followEvents(): Promise<void> {
    let delay = 500;
    while (!this.abort.signal.aborted) {
      try {
        await this.options.source.follow((type) => {
          delay = 500;
          if (ROUTING_EVENTS.has(type)) this.requestSync();
        }, this.abort.signal);
      } catch (err) {
        if (this.abort.signal.aborted) return;
        this.options.logger.warn(`event stream: ${errorMessage(err)}; reconnecting in ${delay} ms`);
      }
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 10_000);
      this.requestSync(); // Events may have been missed meanwhile.
    }
  }

  private report(r: SyncReport): void {
    this.onSync(r);
  }
}

const count = (r: Routing) => r.backends.reduce((n, b) => n + b.servers.length, 0);

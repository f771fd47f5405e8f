// The master's HTTP endpoint: the registered route modules (the v0 JSON
// endpoints, the v1 scheduler and operator APIs, metrics, the web UI, ...),
// each tried in turn; it says whether it took the request. `redirectToLeader` is how a non-leading master
// answers: 307 to the leader, or 503 while none is known.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Unavailable } from '../common/errors.js';
import type { Logger } from '../common/log/logger.js';
import type { Tls } from '../common/tls.js';
import { listenHttp, type HttpListener } from '../common/tls-listener.js';

export interface MasterHttpOptions {
  readonly ip: string;
  readonly port: number;
  /** https with these (common/tls.ts), else plain http. */
  readonly tls?: Tls | null;
  /** Tried in order; a handler returns true when it took the request. */
  readonly handlers?: readonly HttpHandler[];
  /** Where a handler's internal error is logged (component http). */
  readonly logger?: Logger;
}

/** A route module: answers the request (true) or leaves it to the next (false). */
export type HttpHandler = (req: IncomingMessage, res: ServerResponse, path: string) => boolean | Promise<boolean>;

/** As Mesos does when it does not lead: 307 with a protocol-relative Location naming the leader, or 503. */
export function redirectToLeader(res: ServerResponse, leader: string | null, url: string): void {
  if (leader) {
    res.writeHead(307, { Location: `//${leader}${url}`, 'Content-Type': 'text/plain' });
    return void res.end(`this master is not the leader; the leader is ${leader}\n`);
  }
  reply(res, 503, 'text/plain', 'no leading master is known\n');
}

export async function startMasterHttp(options: MasterHttpOptions): Promise<HttpListener> {
  const warn = (fields: Record<string, unknown>, message: string) => options.logger?.warn(fields, message);
  return listenHttp(options.ip, options.port, options.tls ?? null, (req, res) => void dispatch(options, req, res), warn);
}

async function dispatch(options: MasterHttpOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?')[0] ?? '/';
  try {
    for (const handler of options.handlers ?? []) if (await handler(req, res, path)) return;
    notFound(req, res, path);
  } catch (err) {
    // A bug in a handler must not take the master down; the client hears of it.
    options.logger?.error({ err, method: req.method, path }, `internal error answering ${req.method} ${path}`);
    if (!res.headersSent) reply(res, 500, 'text/plain', `internal error: ${err instanceof Error ? err.message : String(err)}\n`);
    else res.destroy();
  }
}

function notFound(req: IncomingMessage, res: ServerResponse, path: string): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') return reply(res, 405, 'text/plain', `${req.method} is not allowed on ${path}\n`);
  reply(res, 404, 'text/plain', `no endpoint ${path}; try /master/state or /master/health\n`);
}

/**
 * `get()` when this master leads; otherwise answers 307 naming the leader (or
 * 503 while none is known, with the reason `get` gave) and returns null.
 */
export function leaderOrRedirect<T>(get: () => T, leaderHttp: () => string | null, req: IncomingMessage, res: ServerResponse): T | null {
  try {
    return get();
  } catch (err) {
    if (!(err instanceof Unavailable)) throw err;
    const leader = leaderHttp();
    if (leader) redirectToLeader(res, leader, req.url ?? '/');
    else reply(res, 503, 'text/plain; charset=utf-8', `${err.message}\n`);
    return null;
  }
}

export function reply(res: ServerResponse, code: number, type: string, body: string): void {
  res.writeHead(code, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

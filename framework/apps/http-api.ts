// Marathon's REST API (the subset in README.md) over node:http. With
// credentials set, every request proves them first, on a standby too
// (api-authentication.ts). A standby answers /ping, /v2/leader and /metrics
// itself and redirects everything else to the leader (307), as Marathon
// does, the web page at /ui/ included (webui/web-ui.ts); errors are answered
// in one place (`ApiError` → its status and Marathon's body).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { errorMessage } from '../../common/errors.js';
import { ApiError, badRequest, notFound } from './api-errors.js';
import type { ApiAuthentication } from './api-authentication.js';
import { sseFrame, type EventBus } from './events.js';
import type { AppsOperations } from './operations.js';
import { normalizeAppId } from './app-definition.js';
import type { AutoscaleLoop } from './autoscale-loop.js';
import { serveAppsUi } from './webui/web-ui.js';
import { MAX_DRAINED_BYTES } from '../../master/http-api/http-status.js';

export interface HttpApiOptions {
  /** The leader's `host:port`, or null when none is known; `self` is true when this instance leads. */
  readonly leader: () => { readonly address: string; readonly self: boolean } | null;
  /** The operations, once this instance leads and has reconciled; null before. */
  readonly operations: () => AppsOperations | null;
  readonly events: EventBus;
  readonly info: () => Record<string, unknown>;
  readonly metrics: () => string;
  /** The leader's autoscaler, for GET /v2/autoscale[/{appId}]; null before it leads. */
  readonly autoscale?: () => Pick<AutoscaleLoop, 'entries' | 'entry'> | null;
  /** Set: every request must prove a credential (HTTP basic), else 401. */
  readonly authentication?: ApiAuthentication | null;
  /** The scheme of a standby's redirect to its leader (https when the API speaks TLS). */
  readonly scheme?: 'http' | 'https';
}

const MAX_BODY = 1024 * 1024;

type Reply = { status: number; body: unknown; headers?: Record<string, string> };

export function createAppsHttpServer(options: HttpApiOptions): Server {
  return createServer(appsHttpHandler(options));
}

/** The API as a request handler, for a server of the caller's (http or https, common/tls-listener.ts). */
export function appsHttpHandler(options: HttpApiOptions): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => void handle(options, req, res);
}

async function handle(options: HttpApiOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const method = req.method ?? 'GET';
  const auth = options.authentication;
  if (auth && auth.principalOf(req.headers.authorization) === null) {
    // Nothing of the request is acted on; its body is left unread.
    return json(res, { status: 401, body: { message: 'Unauthorized: this API needs HTTP basic authentication (missing or wrong credentials)' }, headers: { 'www-authenticate': `Basic realm="${auth.realm}"` } });
  }
  try {
    if (url.pathname === '/ping') return text(res, 200, 'pong\n');
    if (url.pathname === '/metrics') return text(res, 200, options.metrics());
    const leader = options.leader();
    if (url.pathname === '/v2/leader') {
      if (!leader) throw notFound('There is no leader');
      return json(res, { status: 200, body: { leader: leader.address } });
    }
    if (!leader?.self) {
      if (!leader) return json(res, { status: 503, body: { message: 'Could not determine the current leader' } });
      res.writeHead(307, { location: `${options.scheme ?? 'http'}://${leader.address}${url.pathname}${url.search}` }).end();
      return;
    }
    if (method === 'GET' && url.pathname === '/') return void res.writeHead(302, { location: '/ui/' }).end();
    if (method === 'GET' && (url.pathname === '/ui' || url.pathname.startsWith('/ui/'))) {
      if (!(await serveAppsUi(url.pathname, res))) throw notFound(`no file ${url.pathname}`);
      return;
    }
    if (url.pathname === '/v2/info') return json(res, { status: 200, body: options.info() });
    if (url.pathname === '/v2/events' && method === 'GET') return events(options.events, req, res);
    const ops = options.operations();
    if (!ops) return json(res, { status: 503, body: { message: 'Leader is still reconciling its tasks; try again shortly' } });
    if (/^\/v2\/autoscale(\/|$)/.test(url.pathname)) return json(res, autoscaleRoute(options.autoscale?.() ?? null, method, url.pathname));
    const body = method === 'POST' || method === 'PUT' || method === 'PATCH' ? await readJson(req) : undefined;
    return json(res, await route(ops, method, url, body));
  } catch (err) {
    if (err instanceof ApiError) return json(res, { status: err.status, body: err.body });
    json(res, { status: 500, body: { message: errorMessage(err) } });
  }
}

const flag = (url: URL, name: string): boolean => url.searchParams.get(name) === 'true';

async function route(ops: AppsOperations, method: string, url: URL, body: unknown): Promise<Reply> {
  const path = url.pathname.replace(/\/+$/, '') || '/';
  const force = flag(url, 'force');
  if (path === '/v2/apps') {
    if (method === 'GET') {
      const embed = url.searchParams.getAll('embed');
      const id = url.searchParams.get('id') ?? undefined;
      const tasks = embed.includes('apps.tasks') || embed.includes('app.tasks');
      const readiness = embed.includes('apps.readiness');
      return { status: 200, body: { apps: ops.listApps({ tasks, lastTaskFailure: embed.includes('apps.lastTaskFailure'), readiness }, id) } };
    }
    if (method === 'POST') {
      const { app, deployment } = await ops.createApp(body);
      return { status: 201, body: app, headers: { location: `/v2/apps${String(app.id)}`, 'marathon-deployment-id': deployment.deploymentId } };
    }
    return notAllowed(method, path);
  }
  if (path.startsWith('/v2/apps/')) return appRoute(ops, method, url, path.slice('/v2/apps'.length), body, force);
  if (path === '/v2/deployments' && method === 'GET') return { status: 200, body: ops.deployments() };
  const dep = /^\/v2\/deployments\/([^/]+)$/.exec(path);
  if (dep) {
    const id = decoded(dep[1]!);
    if (method === 'GET') return { status: 200, body: ops.deployment(id) };
    if (method === 'DELETE') {
      const ref = await ops.cancelDeployment(id, force);
      return ref ? { status: 200, body: ref } : { status: 202, body: {} };
    }
    return notAllowed(method, path);
  }
  if (path === '/v2/queue' && method === 'GET') return { status: 200, body: { queue: ops.queue() } };
  const delay = /^\/v2\/queue\/(.+)\/delay$/.exec(path);
  if (delay && method === 'DELETE') {
    ops.resetDelay(delay[1]!);
    return { status: 204, body: null };
  }
  if (path === '/v2/tasks' && method === 'GET') return { status: 200, body: { tasks: ops.allTasks() } };
  throw notFound(`no route ${method} ${path}`);
}

async function appRoute(ops: AppsOperations, method: string, url: URL, rest: string, body: unknown, force: boolean): Promise<Reply> {
  let m: RegExpExecArray | null;
  if ((m = /^(.+)\/restart$/.exec(rest)) && method === 'POST') return { status: 200, body: await ops.restartApp(m[1]!, force) };
  if ((m = /^(.+)\/tasks\/([^/]+)$/.exec(rest)) && method === 'DELETE') {
    return { status: 200, body: await ops.killTask(m[1]!, decoded(m[2]!), flag(url, 'scale'), force) };
  }
  if ((m = /^(.+)\/tasks$/.exec(rest)) && method === 'GET') return { status: 200, body: { tasks: ops.tasks(m[1]!) } };
  if ((m = /^(.+)\/versions\/([^/]+)$/.exec(rest)) && method === 'GET') return { status: 200, body: await ops.version(m[1]!, decoded(m[2]!)) };
  if ((m = /^(.+)\/versions$/.exec(rest)) && method === 'GET') return { status: 200, body: { versions: await ops.versions(m[1]!) } };
  switch (method) {
    case 'GET':
      return { status: 200, body: { app: ops.getApp(rest) } };
    case 'PUT':
    case 'PATCH': {
      const partial = method === 'PATCH' || url.searchParams.get('partialUpdate') !== 'false';
      const { created, deployment } = await ops.updateApp(rest, body, { partial, force });
      return { status: created ? 201 : 200, body: deployment, headers: { 'marathon-deployment-id': deployment.deploymentId } };
    }
    case 'DELETE':
      return { status: 200, body: await ops.deleteApp(rest, force) };
    default:
      return notAllowed(method, rest);
  }
}

/** GET /v2/autoscale: every autoscaled app with its recent decisions; GET /v2/autoscale/{appId}: one of them. */
function autoscaleRoute(loop: Pick<AutoscaleLoop, 'entries' | 'entry'> | null, method: string, pathname: string): Reply {
  const path = pathname.replace(/\/+$/, '');
  if (method !== 'GET') return notAllowed(method, path);
  if (path === '/v2/autoscale') return { status: 200, body: { apps: loop?.entries() ?? [] } };
  const raw = decoded(path.slice('/v2/autoscale'.length));
  const id = normalizeAppId(raw);
  const entry = id && loop ? loop.entry(id) : null;
  if (!entry) throw notFound(`App '${id ?? raw}' does not exist or is not autoscaled`);
  return { status: 200, body: entry };
}

/** A path segment with its %-escapes undone; a malformed escape (`%zz`) is the client's error, 400. */
function decoded(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw badRequest(`the path segment '${segment.slice(0, 100)}' is not valid URI encoding`);
  }
}

function notAllowed(method: string, path: string): never {
  throw new ApiError(405, { message: `${method} is not allowed on ${path}` });
}

function events(bus: EventBus, req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  res.write(': connected\n\n');
  const url = new URL(req.url ?? '/', 'http://localhost');
  const only = new Set(url.searchParams.getAll('event_type'));
  const off = bus.subscribe((e) => {
    if (only.size === 0 || only.has(e.eventType)) res.write(sseFrame(e));
  });
  req.on('close', off);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    // The rest of an oversized body is read and dropped before the 413 (up to a bound): leaving the loop
    // destroys the request, and a client still sending would see a reset connection instead of the answer.
    if (size > MAX_BODY + MAX_DRAINED_BYTES) break;
    if (size <= MAX_BODY) chunks.push(chunk as Buffer);
  }
  if (size > MAX_BODY) throw new ApiError(413, { message: `the body is larger than ${MAX_BODY} bytes` });
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') throw badRequest('the request needs a JSON body');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw badRequest(`Invalid JSON: ${errorMessage(err)}`);
  }
}

function json(res: ServerResponse, reply: Reply): void {
  if (reply.status === 204) return void res.writeHead(204, reply.headers).end();
  const data = JSON.stringify(reply.body);
  res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
  res.end(data);
}

function text(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' }).end(body);
}

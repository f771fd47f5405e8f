// The master's v0 JSON read endpoints, routed as a Mesos 1.11 master routes
// them (each also without its /master prefix, as libprocess delegates the
// root to the master):
//
//   /master/state (/state.json too)   /master/state-summary   /master/slaves?slave_id=
//   /master/frameworks?framework_id=  /master/tasks?limit&offset&order&framework_id&task_id
//   /master/roles                     -> the leader answers from its snapshot; others 307 to it (503: none known)
//   /master/flags  /master/health  /version
//                                     -> every master answers (Mesos does not redirect them)
//
// `?jsonp=NAME` wraps the JSON as `NAME(...);` with Content-Type text/javascript,
// wherever Mesos answers with OK(json, jsonp): every endpoint above but health.
// (/master/redirect is served with the operator API, master/operator/http.ts.)
// The write endpoints (/master/teardown, reserve, unreserve, quota, weights,
// maintenance, machine) belong beside these, in their own route module.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { redirectToLeader, reply, type HttpHandler } from '../http.js';
import { writeJson } from '../../common/jsonp.js';
import type { V0Model } from './model.js';
import type { StateSnapshot } from './snapshot.js';
import * as views from './views.js';

export interface V0RoutesOptions {
  /** The snapshot of the leading master, or null when this master does not lead. */
  readonly snapshot: () => StateSnapshot | null;
  /** The leader's HTTP host:port when another master leads. */
  readonly leaderHttp: () => string | null;
  /** /master/flags' and /version's answers: the same on every master. */
  readonly flags: Readonly<Record<string, string>>;
  readonly build: V0Model['build'];
  /** What this request's principal may see (view_frameworks, view_tasks); null when it sees everything. */
  readonly viewFilter?: (req: IncomingMessage) => ((model: V0Model) => V0Model) | null;
}

type Answer = (snapshot: StateSnapshot, query: URLSearchParams) => string | Buffer;

/** The endpoints answered from the leader's snapshot, by path without the /master prefix. */
const FROM_SNAPSHOT: ReadonlyMap<string, Answer> = new Map<string, Answer>([
  ['/state', (s) => s.encoded('state', (m) => m.state)],
  ['/state.json', (s) => s.encoded('state', (m) => m.state)],
  ['/state-summary', (s) => s.encoded('state-summary', views.stateSummary)],
  ['/slaves', (s, q) => (q.has('slave_id') ? JSON.stringify(views.slaves(s.model(), q.get('slave_id'))) : s.encoded('slaves', (m) => views.slaves(m, null)))],
  ['/frameworks', (s, q) => (q.has('framework_id') ? JSON.stringify(views.frameworks(s.model(), q.get('framework_id'))) : s.encoded('frameworks', (m) => views.frameworks(m, null)))],
  ['/tasks', (s, q) => JSON.stringify(views.tasks(s.model(), views.readTaskQuery(q), (order) => s.memo(`tasks:${order}`, (m) => views.orderTasks(views.allTasks(m), order))))],
  ['/roles', (s) => s.encoded('roles', views.roles)],
]);

/** The endpoints whose answer depends on what the caller may see, made from a filtered model (never cached: it is one caller's). */
const FILTERED: ReadonlyMap<string, (model: V0Model, query: URLSearchParams) => unknown> = new Map<string, (model: V0Model, query: URLSearchParams) => unknown>([
  ['/state', (m) => m.state],
  ['/state.json', (m) => m.state],
  ['/state-summary', (m) => views.stateSummary(m)],
  ['/frameworks', (m, q) => views.frameworks(m, q.get('framework_id'))],
  ['/tasks', (m, q) => views.tasks(m, views.readTaskQuery(q))],
  ['/roles', (m) => views.roles(m)],
]);

export function v0Routes(options: V0RoutesOptions): HttpHandler {
  const flagsText = JSON.stringify(views.flags({ flags: options.flags } as V0Model));
  const versionText = JSON.stringify(options.build);
  return (req, res, path) => {
    const bare = path.startsWith('/master/') ? path.slice('/master'.length) : path;
    const fromSnapshot = FROM_SNAPSHOT.get(bare);
    const known = fromSnapshot || bare === '/flags' || bare === '/health' || path === '/version';
    if (!known) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET');
      reply(res, 405, 'text/plain', `${req.method} is not allowed on ${path}\n`);
      return true;
    }
    const query = new URL(req.url ?? '/', 'http://master').searchParams;
    if (bare === '/health') return void res.writeHead(200, { 'Content-Length': 0 }).end(), true;
    if (bare === '/flags') return json(res, flagsText, query);
    if (path === '/version') return json(res, versionText, query);
    const snapshot = options.snapshot();
    if (!snapshot) return redirectToLeader(res, options.leaderHttp(), req.url ?? path), true;
    const filtered = FILTERED.get(bare);
    const filter = filtered ? options.viewFilter?.(req) : null;
    if (filter) return json(res, JSON.stringify(filtered!(filter(snapshot.model()), query)), query);
    return json(res, fromSnapshot!(snapshot, query), query);
  };
}

/** OK(json, jsonp) as libprocess writes it (common/jsonp.ts). */
function json(res: ServerResponse, text: string | Buffer, query: URLSearchParams): true {
  writeJson(res, text, query.get('jsonp'));
  return true;
}

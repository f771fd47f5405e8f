// Mesos's older (v0) endpoints for the operator's settings, each a thin
// shape over the same write call as POST /api/v1 (write-calls.ts), so the
// two cannot disagree:
//
//   POST   /master/teardown                  frameworkId=ID (form)               TEARDOWN
//   POST   /master/reserve, /master/unreserve  slaveId=ID&resources=[JSON]       RESERVE_/UNRESERVE_RESOURCES (202)
//   GET    /master/weights                   [WeightInfo]
//   PUT    /master/weights                   [WeightInfo]                        UPDATE_WEIGHTS
//   GET    /master/quota                     QuotaStatus
//   POST   /master/quota                     QuotaRequest {role, guarantee}      SET_QUOTA
//   DELETE /master/quota/ROLE                                                    REMOVE_QUOTA
//   GET    /master/maintenance/schedule      Schedule
//   POST   /master/maintenance/schedule      Schedule                            UPDATE_MAINTENANCE_SCHEDULE
//   GET    /master/maintenance/status        ClusterStatus
//   POST   /master/machine/down, /machine/up  [MachineID]                        START_/STOP_MAINTENANCE
//
// GETs take Mesos's `jsonp` parameter. A non-leading master redirects.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { protoRoot, type OperatorResponse } from '../../proto/index.js';
import { errorMessage, InvalidArgument } from '../../common/errors.js';
import { writeJson } from '../../common/jsonp.js';
import { leaderOrRedirect, type HttpHandler } from '../http.js';
import { toMesosJson } from '../http-api/proto-json.js';
import { HttpError, readBody, refuse } from '../http-api/http-status.js';
import { decodeOperatorCall } from './http.js';
import { authenticatedPrincipal } from '../authentication.js';
import type { OperatorApi, ServedCall, WriteCall } from './operator-api.js';

const RESPONSE = protoRoot.lookupType('mesos.v1.master.Response');
const MAX_BODY_BYTES = 1024 * 1024;

interface Route {
  readonly methods: readonly string[];
  /** GET: the part of the Response served. */
  readonly read?: { readonly call: ServedCall; readonly pick: (json: Record<string, unknown>) => unknown };
  /** A write: the Call its body makes. */
  readonly write?: { readonly call: WriteCall; readonly body: (text: string) => Record<string, unknown>; readonly accepted?: boolean };
}

const json = (text: string, what: string): unknown => {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new InvalidArgument(`Failed to parse ${what} as JSON: ${errorMessage(err)}`);
  }
};
const form = (text: string) => new URLSearchParams(text);
const required = (params: URLSearchParams, name: string) => {
  const value = params.get(name);
  if (!value) throw new InvalidArgument(`Missing '${name}' query parameter in the request body`);
  return value;
};
const pick = (...path: string[]) => (o: Record<string, unknown>): unknown => path.reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], o);

const ROUTES: Readonly<Record<string, Route>> = {
  '/master/teardown': { methods: ['POST'], write: { call: 'TEARDOWN', body: (t) => ({ teardown: { framework_id: { value: required(form(t), 'frameworkId') } } }) } },
  '/master/reserve': {
    methods: ['POST'],
    write: {
      call: 'RESERVE_RESOURCES', accepted: true,
      body: (t) => ({ reserve_resources: { agent_id: { value: required(form(t), 'slaveId') }, resources: json(required(form(t), 'resources'), "'resources'") } }),
    },
  },
  '/master/unreserve': {
    methods: ['POST'],
    write: {
      call: 'UNRESERVE_RESOURCES', accepted: true,
      body: (t) => ({ unreserve_resources: { agent_id: { value: required(form(t), 'slaveId') }, resources: json(required(form(t), 'resources'), "'resources'") } }),
    },
  },
  '/master/weights': {
    methods: ['GET', 'PUT'],
    read: { call: 'GET_WEIGHTS', pick: (o) => pick('get_weights', 'weight_infos')(o) ?? [] },
    write: { call: 'UPDATE_WEIGHTS', body: (t) => ({ update_weights: { weight_infos: json(t, 'the weights') } }) },
  },
  '/master/quota': {
    methods: ['GET', 'POST'],
    read: { call: 'GET_QUOTA', pick: (o) => pick('get_quota', 'status')(o) ?? {} },
    write: { call: 'SET_QUOTA', body: (t) => ({ set_quota: { quota_request: json(t, 'the quota request') } }) },
  },
  '/master/maintenance/schedule': {
    methods: ['GET', 'POST'],
    read: { call: 'GET_MAINTENANCE_SCHEDULE', pick: (o) => pick('get_maintenance_schedule', 'schedule')(o) ?? {} },
    write: { call: 'UPDATE_MAINTENANCE_SCHEDULE', body: (t) => ({ update_maintenance_schedule: { schedule: json(t, 'the schedule') } }) },
  },
  '/master/maintenance/status': { methods: ['GET'], read: { call: 'GET_MAINTENANCE_STATUS', pick: (o) => pick('get_maintenance_status', 'status')(o) ?? {} } },
  '/master/machine/down': { methods: ['POST'], write: { call: 'START_MAINTENANCE', body: (t) => ({ start_maintenance: { machines: json(t, 'the machines') } }) } },
  '/master/machine/up': { methods: ['POST'], write: { call: 'STOP_MAINTENANCE', body: (t) => ({ stop_maintenance: { machines: json(t, 'the machines') } }) } },
};

export interface V0WritesOptions {
  readonly api: () => OperatorApi;
  readonly leaderHttp: () => string | null;
}

export function v0WriteEndpoints(options: V0WritesOptions): HttpHandler {
  return async (req, res, path) => {
    const quotaRole = path.startsWith('/master/quota/') ? decodeURIComponent(path.slice('/master/quota/'.length)) : null;
    const route = quotaRole !== null ? null : ROUTES[path];
    if (!route && quotaRole === null) return false;
    try {
      const api = leaderOrRedirect(options.api, options.leaderHttp, req, res);
      if (!api) return true;
      if (quotaRole !== null) {
        if (req.method !== 'DELETE') throw new HttpError(405, `Expecting 'DELETE', received '${req.method}'`, { Allow: 'DELETE' });
        await write(api, 'REMOVE_QUOTA', { remove_quota: { role: quotaRole } }, authenticatedPrincipal(req));
        done(res, 200);
      } else {
        await serve(api, route!, req, res);
      }
    } catch (err) {
      refuse(res, err);
    }
    return true;
  };
}

async function serve(api: OperatorApi, route: Route, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const method = req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET');
  if (!route.methods.includes(method)) throw new HttpError(405, `Expecting one of ${route.methods.join(', ')}, received '${req.method}'`, { Allow: route.methods.join(', ') });
  if (method === 'GET') return serveRead(api, route.read!, req, res);
  const text = (await readBody(req, MAX_BODY_BYTES)).toString('utf8');
  await write(api, route.write!.call, route.write!.body(text), authenticatedPrincipal(req));
  done(res, route.write!.accepted ? 202 : 200);
}

async function write(api: OperatorApi, type: WriteCall, body: Record<string, unknown>, principal: string | null): Promise<void> {
  const call = decodeOperatorCall(Buffer.from(JSON.stringify({ type, ...body })), 'json');
  await api.write(type, call.decoded, principal);
}

function serveRead(api: OperatorApi, read: NonNullable<Route['read']>, req: IncomingMessage, res: ServerResponse): void {
  const answer = toMesosJson(RESPONSE, api.answerFor(read.call, authenticatedPrincipal(req)) as OperatorResponse);
  const body = JSON.stringify(read.pick(answer));
  writeJson(res, body, new URL(req.url ?? '/', 'http://master').searchParams.get('jsonp'));
}

function done(res: ServerResponse, status: number): void {
  res.writeHead(status, { 'Content-Length': 0 }).end();
}

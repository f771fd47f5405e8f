// POST /api/v1/scheduler (also /master/api/v1/scheduler): Mesos's v1
// scheduler HTTP API, a thin adapter to Master.subscribe and Master.call as
// rpc/scheduler-service.ts is for gRPC: one behaviour, two encodings. The
// checks come in Mesos's order, each with Mesos's status code:
//
//   leading? (307 to the leader / 503) ─> POST? (405) ─> Content-Type (400 / 415)
//   ─> body (413) ─> decode (400) ─> validate (400)
//   ─> SUBSCRIBE: Accept (406), no Mesos-Stream-Id (400)
//        ─> 200, Mesos-Stream-Id, a RecordIO stream of Events until either side ends it
//   ─> others: framework known (400), subscribed (403), Mesos-Stream-Id present (400)
//        and matching (400) ─> Master.call ─> 202 Accepted, empty body
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Call } from '../../proto/index.js';
import { STREAM_ID_HEADER, STREAM_ID_KEY } from '../../common/stream-id.js';
import type { Master } from '../master.js';
import { validateCall } from '../validation.js';
import { leaderOrRedirect, type HttpHandler } from '../http.js';
import { MEDIA_TYPE, encodingOf, mediaTypeOf, negotiate, type Encoding } from './media-types.js';
import { authenticatedPrincipal, checkCallPrincipal, withAuthenticatedPrincipal } from '../authentication.js';
import { decodeCall, encodeEvent, recordIo } from './scheduler-codec.js';
import { HttpError, readBody, refuse } from './http-status.js';
import { SubscriberStream } from '../subscriber-stream.js';

export const SCHEDULER_API_PATHS: ReadonlySet<string> = new Set(['/api/v1/scheduler', '/master/api/v1/scheduler']);
/** Larger request bodies are refused with 413 (an ACCEPT launching a thousand tasks is well below). */
export const MAX_BODY_BYTES = 4 * 1024 * 1024;

export interface SchedulerHttpOptions {
  /** The master when this process leads and acts; throws Unavailable otherwise (main.ts's `leader`). */
  readonly leader: () => Master;
  /** Settles once a just-elected master has taken over its registry: requests arriving meanwhile wait. */
  readonly ready?: () => Promise<void>;
  /** The leading master's HTTP host:port when another master leads; null while none is known. */
  readonly leaderHttp?: () => string | null;
  readonly maxBodyBytes?: number;
}

export function schedulerHttpApi(options: SchedulerHttpOptions): HttpHandler {
  return async (req, res, path) => {
    if (!SCHEDULER_API_PATHS.has(path)) return false;
    try {
      await serve(options, req, res);
    } catch (err) {
      refuse(res, err);
    }
    return true;
  };
}

async function serve(options: SchedulerHttpOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  await options.ready?.();
  if (!leaderOrRedirect(options.leader, () => options.leaderHttp?.() ?? null, req, res)) return;
  if (req.method !== 'POST') throw new HttpError(405, `Expecting 'POST', received '${req.method}'`, { Allow: 'POST' });
  const encoding = requestEncoding(req.headers['content-type']);
  const body = await readBody(req, options.maxBodyBytes ?? MAX_BODY_BYTES);
  const decoded = decodeCall(body, encoding);
  validateCall(decoded);
  const call = withAuthenticatedPrincipal(decoded, authenticatedPrincipal(req));
  // Leadership may have moved while the body arrived.
  const master = leaderOrRedirect(options.leader, () => options.leaderHttp?.() ?? null, req, res);
  if (!master) return;
  if (call.type === 'SUBSCRIBE') return subscribe(master, call, req, res);
  frameworkCall(master, call, req);
  res.writeHead(202, { 'Content-Length': 0 });
  res.end();
}


function requestEncoding(header: string | undefined): Encoding {
  const type = mediaTypeOf(header);
  if (!type) throw new HttpError(400, "Expecting 'Content-Type' to be present");
  const encoding = encodingOf(type);
  if (!encoding) throw new HttpError(415, `Expecting 'Content-Type' of ${MEDIA_TYPE.json} or ${MEDIA_TYPE.protobuf}, got '${type}'`);
  return encoding;
}


/** A call of a subscribed framework, checked as Mesos checks it before the master applies it. */
function frameworkCall(master: Master, call: Call, req: IncomingMessage): void {
  const frameworkId = call.framework_id!.value; // validateCall requires it.
  const fw = master.frameworks.get(frameworkId);
  if (!fw) throw new HttpError(400, `Framework '${frameworkId}' cannot be found`);
  if (!fw.connected) throw new HttpError(403, `Framework '${frameworkId}' is not subscribed`);
  checkCallPrincipal(fw.info.principal, authenticatedPrincipal(req));
  const streamId = req.headers[STREAM_ID_KEY];
  if (streamId === undefined) throw new HttpError(400, `All non-subscribe calls should include the '${STREAM_ID_HEADER}' header`);
  master.call(call, String(streamId));
}

/** SUBSCRIBE: the response is the framework's event stream, one RecordIO record per event. */
async function subscribe(master: Master, call: Call, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const encoding = negotiate(req.headers.accept);
  if (!encoding) throw new HttpError(406, `Expecting 'Accept' to allow '${MEDIA_TYPE.json}' or '${MEDIA_TYPE.protobuf}'`);
  if (req.headers[STREAM_ID_KEY] !== undefined) {
    throw new HttpError(400, `Subscribe calls should not include the '${STREAM_ID_HEADER}' header`);
  }
  const stream = new SubscriberStream<Buffer>(master, {
    write: (record) => res.write(record),
    end: () => res.end(),
    // Drops what the socket holds too; the scheduler sees its connection end and may subscribe again.
    cutOff: () => res.destroy(),
    measure: (record) => ({ event: record, bytes: record.length }),
  }, (event) => recordIo(encodeEvent(event, encoding)));
  if (req.socket.destroyed) stream.closed();
  res.once('close', () => stream.closed());
  res.on('drain', () => stream.drained());
  // SUBSCRIBE waits for the registry; the scheduler may hang up meanwhile.
  stream.subscribedAs(await master.subscribe(call, (id) => {
    res.writeHead(200, { 'Content-Type': MEDIA_TYPE[encoding], [STREAM_ID_HEADER]: id, 'Cache-Control': 'no-cache' });
    return stream.sink;
  }));
}

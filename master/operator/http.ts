// POST /api/v1 (also /master/api/v1): Mesos's v1 operator HTTP API for the
// calls OperatorApi serves, in JSON or protobuf, as grpc-service.ts serves
// them over gRPC: one behaviour, two encodings. And GET /master/redirect,
// which sends a client to the leading master. Checks come in Mesos's order,
// each with Mesos's status code:
//
//   leading? (307 to the leader / 503) ─> POST? (405) ─> Content-Type (400 / 415)
//   ─> body (413) ─> decode (400) ─> Call.type known (400) and served (501) ─> Accept (406)
//   ─> 200 with the mesos.v1.master.Response; a write call: 200 (202 for RESERVE/UNRESERVE) and no body
//      once the registry holds the change, 400 / 409 (Conflict) when it is refused
//   ─> SUBSCRIBE: 200 and a RecordIO stream of mesos.v1.master.Events until either side ends it
import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { messageCodec, protoRoot, type OperatorCall, type OperatorCallIn } from '../../proto/index.js';
import { InvalidArgument, errorMessage } from '../../common/errors.js';
import { leaderOrRedirect, reply, type HttpHandler } from '../http.js';
import { MEDIA_TYPE, encodingOf, mediaTypeOf, negotiate, type Encoding } from '../http-api/media-types.js';
import { encodeMessage, jsonBodyToProtobuf, jsonType } from '../http-api/proto-json.js';
import { BoundedStaleness } from '../bounded-staleness.js';
import { HttpError, readBody, refuse } from '../http-api/http-status.js';
import { recordIo } from '../http-api/scheduler-codec.js';
import { authenticatedPrincipal } from '../authentication.js';
import { callType, isServed, isWriteCall, SERVED_CALLS, WRITE_CALLS, type OperatorApi, type ServedCall } from './operator-api.js';

export const OPERATOR_API_PATHS: ReadonlySet<string> = new Set(['/api/v1', '/master/api/v1']);
const REDIRECT_PATHS: ReadonlySet<string> = new Set(['/redirect', '/master/redirect']);
/** Operator calls are small; larger bodies are refused with 413. */
const MAX_BODY_BYTES = 64 * 1024;

const CALL = protoRoot.lookupType('mesos.v1.master.Call');
const GRPC_CALL = messageCodec<OperatorCallIn, OperatorCall>('mesos.v1.master.Call');
const RESPONSE = protoRoot.lookupType('mesos.v1.master.Response');
const EVENT = protoRoot.lookupType('mesos.v1.master.Event');

export interface OperatorHttpOptions {
  /** The operator API when this master leads and acts; throws Unavailable otherwise. */
  readonly api: () => OperatorApi;
  /** The leading master's HTTP host:port when another master leads; null while none is known or this one leads. */
  readonly leaderHttp: () => string | null;
  /** This master's own HTTP host:port (where /master/redirect points while it leads). */
  readonly selfHttp: () => string;
}

export function operatorHttpApi(options: OperatorHttpOptions): HttpHandler {
  // Answers to the state calls, encoded once per master version.
  const cache = new Map<string, BoundedStaleness<Buffer>>();
  return async (req, res, path) => {
    if (REDIRECT_PATHS.has(path)) return redirect(options, req, res);
    if (!OPERATOR_API_PATHS.has(path)) return false;
    try {
      await serve(options, cache, req, res);
    } catch (err) {
      refuse(res, err);
    }
    return true;
  };
}

/** GET /master/redirect, as Mesos answers it: 307 to the leading master (this one, when it leads), 503 while none is known. */
function redirect(options: OperatorHttpOptions, req: IncomingMessage, res: ServerResponse): true {
  let leader: string | null;
  try {
    options.api();
    leader = options.selfHttp();
  } catch {
    leader = options.leaderHttp();
  }
  if (leader) res.writeHead(307, { Location: `//${leader}`, 'Content-Length': 0 }).end();
  else reply(res, 503, 'text/plain; charset=utf-8', 'no leading master is known\n');
  return true;
}

async function serve(
  options: OperatorHttpOptions, cache: Map<string, BoundedStaleness<Buffer>>, req: IncomingMessage, res: ServerResponse,
): Promise<void> {
  if (!leaderOrRedirect(options.api, options.leaderHttp, req, res)) return;
  if (req.method !== 'POST') throw new HttpError(405, `Expecting 'POST', received '${req.method}'`, { Allow: 'POST' });
  const type = mediaTypeOf(req.headers['content-type']);
  if (!type) throw new HttpError(400, "Expecting 'Content-Type' to be present");
  const encoding = encodingOf(type);
  if (!encoding) throw new HttpError(415, `Expecting 'Content-Type' of ${MEDIA_TYPE.json} or ${MEDIA_TYPE.protobuf}, got '${type}'`);
  const { type: call, decoded } = decodeOperatorCall(await readBody(req, MAX_BODY_BYTES), encoding);
  if (!isServed(call)) {
    throw new HttpError(501, `${call} is a call of Mesos's master API that mesos-ts does not serve; it serves ${[...SERVED_CALLS, ...WRITE_CALLS, 'SUBSCRIBE'].join(', ')}`);
  }
  const accept = negotiate(req.headers.accept);
  if (!accept) throw new HttpError(406, `Expecting 'Accept' to allow '${MEDIA_TYPE.json}' or '${MEDIA_TYPE.protobuf}'`);
  // Leadership may have moved while the body arrived.
  const api = leaderOrRedirect(options.api, options.leaderHttp, req, res);
  if (!api) return;
  const principal = authenticatedPrincipal(req);
  if (call === 'SUBSCRIBE') return subscribe(api, accept, res, principal);
  if (isWriteCall(call)) {
    await api.write(call, decoded, principal);
    // As Mesos: 202 for the reservation calls (offer operations), 200 with no body for the others.
    return void res.writeHead(call === 'RESERVE_RESOURCES' || call === 'UNRESERVE_RESOURCES' ? 202 : 200, { 'Content-Length': 0 }).end();
  }
  const body = answer(api, call, accept, cache, principal);
  res.writeHead(200, { 'Content-Type': MEDIA_TYPE[accept], 'Content-Length': body.length });
  res.end(body);
}

function answer(api: OperatorApi, call: ServedCall, encoding: Encoding, cache: Map<string, BoundedStaleness<Buffer>>, principal: string | null): Buffer {
  // A filtered answer is this principal's alone: never cached.
  if (api.viewFilter(principal) !== null) return encodeMessage(RESPONSE, api.answerFor(call, principal), encoding);
  api.checkRead(call, principal); // PermissionDenied (403) before any cached answer.
  const cached = call !== 'GET_HEALTH' && call !== 'GET_METRICS' && call !== 'GET_VERSION';
  const encode = () => (call === 'GET_STATE' && encoding === 'json' ? api.getStateJson() : encodeMessage(RESPONSE, api.answer(call), encoding));
  if (!cached) return encode();
  // Rebuilt when the master changed, at a bounded share of the event loop (../bounded-staleness.ts): the encoding is most of the cost.
  const key = `${call}:${encoding}`;
  let answers = cache.get(key);
  if (!answers) cache.set(key, (answers = new BoundedStaleness(() => api.version, undefined, undefined, () => api.freshReadsFrom)));
  return answers.get(encode);
}

/** SUBSCRIBE: one RecordIO record per event, written as the client reads them. */
async function subscribe(api: OperatorApi, encoding: Encoding, res: ServerResponse, principal: string | null): Promise<void> {
  const abort = new AbortController();
  res.once('close', () => abort.abort());
  res.writeHead(200, { 'Content-Type': MEDIA_TYPE[encoding], 'Cache-Control': 'no-cache' });
  for await (const event of api.subscribe(abort.signal, principal)) {
    if (!res.write(recordIo(encodeMessage(EVENT, event, encoding)))) await Promise.race([once(res, 'drain'), once(abort.signal, 'abort')]);
    if (abort.signal.aborted) return;
  }
  res.end();
}


/**
 * The Call, read as Mesos reads the body, and its type; 400 when the body is
 * no Call or names no call of the master API. `decoded` is the very object
 * the gRPC adapter would hand on (the same deserializer).
 */
export function decodeOperatorCall(body: Buffer, encoding: Encoding): { type: string; decoded: OperatorCall } {
  // JSON: the type first, so that a misspelt one is named (Mesos's reader would leave it unset).
  const bytes = encoding === 'json' ? jsonBodyToProtobuf(CALL, body, (json) => callType(jsonType(json))) : body;
  let decoded: OperatorCall;
  try {
    decoded = GRPC_CALL.deserialize(bytes);
  } catch (err) {
    throw new InvalidArgument(`Failed to parse body into Call protobuf: ${errorMessage(err)}`);
  }
  return { type: callType(decoded.type), decoded };
}

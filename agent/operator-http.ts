// POST /api/v1 on the agent: Mesos's v1 agent API for the calls
// operator-api.ts answers, in JSON or protobuf. The media types, the
// proto <-> JSON mapping and the error-to-status mapping are the master's
// (master/http-api/), so both daemons speak the same dialect. Checks come in
// Mesos's order, each with Mesos's status code:
//
//   POST? (405) ─> Content-Type (400 / 415) ─> body (413) ─> decode (400)
//   ─> Call.type known and served (400) ─> Accept (406) ─> 200 with the mesos.v1.agent.Response
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { Root } from 'protobufjs';
import { PROTO_DIR } from '../proto/index.js';
import { InvalidArgument, errorMessage } from '../common/errors.js';
import { MEDIA_TYPE, encodingOf, mediaTypeOf, negotiate, type Encoding } from '../master/http-api/media-types.js';
import { encodeMessage, jsonBodyToProtobuf, jsonType } from '../master/http-api/proto-json.js';
import { HttpError, readBody, refuse } from '../master/http-api/http-status.js';
import { answer, isServed, SERVED_CALLS, STATE_CALLS, type AgentApiOptions, type AgentCall } from './operator-api.js';

/** Also reached as /slave(1)/api/v1 (http.ts strips the prefix). */
export const AGENT_API_PATHS: ReadonlySet<string> = new Set(['/api/v1']);
/** Agent calls are small; larger bodies are refused with 413. */
const MAX_BODY_BYTES = 64 * 1024;

/** The agent API's messages (mesos.v1.agent), loaded apart from the master's. */
export const root: Root = (() => {
  const protobuf = createRequire(import.meta.url)('protobufjs') as typeof import('protobufjs');
  const r = new protobuf.Root();
  r.resolvePath = (_origin, target) => (target.startsWith('/') ? target : PROTO_DIR + target);
  r.loadSync(['mesos/v1/agent/agent.proto'], { keepCase: true });
  r.resolveAll();
  return r;
})();
const CALL = root.lookupType('mesos.v1.agent.Call');
const RESPONSE = root.lookupType('mesos.v1.agent.Response');
const CALL_TYPES = new Set(Object.keys(root.lookupEnum('mesos.v1.agent.Call.Type').values));

/** Serves POST /api/v1; `version` is the agent's (state answers are encoded once per version and encoding). */
export function agentApiHandler(options: AgentApiOptions): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const cache = new Map<string, { version: number; body: Buffer }>();
  return async (req, res) => {
    try {
      await serve(options, cache, req, res);
    } catch (err) {
      refuse(res, err);
    }
  };
}

async function serve(options: AgentApiOptions, cache: Map<string, { version: number; body: Buffer }>, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'POST') throw new HttpError(405, `Expecting 'POST', received '${req.method}'`, { Allow: 'POST' });
  const type = mediaTypeOf(req.headers['content-type']);
  if (!type) throw new HttpError(400, "Expecting 'Content-Type' to be present");
  const encoding = encodingOf(type);
  if (!encoding) throw new HttpError(415, `Expecting 'Content-Type' of ${MEDIA_TYPE.json} or ${MEDIA_TYPE.protobuf}, got '${type}'`);
  const call = decodeCall(await readBody(req, MAX_BODY_BYTES), encoding);
  if (!isServed(call.type)) {
    throw new InvalidArgument(`${call.type} is a call of Mesos's agent API that mesos-ts does not serve; it serves ${SERVED_CALLS.join(', ')}`);
  }
  const accept = negotiate(req.headers.accept);
  if (!accept) throw new HttpError(406, `Expecting 'Accept' to allow '${MEDIA_TYPE.json}' or '${MEDIA_TYPE.protobuf}'`);
  const security = options.security;
  if (call.type === 'GET_FLAGS' && security) security.flagsRefusal(req);
  const check = security?.sandboxRefusal(req, () => [...options.agent.completed, ...options.agent.runners.values()]);
  const view = security?.viewOf(req);
  const key = `${call.type}:${accept}`;
  const version = options.agent.version;
  const hit = cache.get(key);
  let body: Buffer;
  // A filtered answer is this caller's alone: never cached.
  const shared = STATE_CALLS.has(call.type) && view === undefined;
  if (shared && hit?.version === version) body = hit.body;
  else {
    body = encodeMessage(RESPONSE, await answer(options, { ...call, type: call.type }, check, view), accept);
    if (shared) cache.set(key, { version, body });
  }
  res.writeHead(200, { 'Content-Type': MEDIA_TYPE[accept], 'Content-Length': body.length });
  res.end(body);
}

/** The Call as Mesos reads the body; 400 when it is no Call or names no call of the agent API. */
function decodeCall(body: Buffer, encoding: Encoding): AgentCall {
  // JSON: the type first, so that a misspelt one is named (Mesos's reader would leave it unset).
  const bytes = encoding === 'json' ? jsonBodyToProtobuf(CALL, body, (json) => callType(jsonType(json))) : body;
  let message;
  try {
    message = CALL.decode(bytes);
  } catch (err) {
    throw new InvalidArgument(`Failed to parse body into Call protobuf: ${errorMessage(err)}`);
  }
  const call = CALL.toObject(message, { enums: String, longs: Number, defaults: false }) as AgentCall;
  return { ...call, type: callType(call.type) };
}

function callType(value: unknown): string {
  if (value === undefined || value === null || value === '' || value === 'UNKNOWN') throw new InvalidArgument('Call.type is required');
  if (typeof value !== 'string' || !CALL_TYPES.has(value)) {
    throw new InvalidArgument(`Call.type ${JSON.stringify(value)} is not a call of the v1 agent API (e.g. GET_STATE, GET_CONTAINERS, READ_FILE)`);
  }
  return value;
}

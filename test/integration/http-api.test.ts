// The v1 scheduler HTTP API of a real master on loopback, without agents,
// driven by a client written from Mesos's docs: subscription in both
// encodings, RecordIO framing, heartbeats, stream ids, every kind of bad
// input with its status code and message, disconnection and failover,
// redirects from a master that does not lead. A gRPC framework and an HTTP
// framework stay subscribed throughout and must notice none of it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as net from 'node:net';
import { request } from 'node:http';
import { startMaster, type RunningMaster } from '../../master/main.js';
import { startMasterHttp } from '../../master/http.js';
import { schedulerHttpApi, MAX_BODY_BYTES } from '../../master/http-api/scheduler-endpoint.js';
import { Unavailable } from '../../common/errors.js';
import { protoRoot } from '../../proto/index.js';
import { RawScheduler } from '../harness/grpc-scheduler.js';
import { MesosHttpClient, SubscribeRefused, type HttpAnswer, type WireEncoding } from '../harness/mesos-http-client.js';
import { waitUntil } from '../harness/wait-until.js';

let running: RunningMaster;
const clients: MesosHttpClient[] = [];
let bystanderGrpc: RawScheduler;
let bystanderHttp: MesosHttpClient;

const info = (name: string, extra: Record<string, unknown> = {}) => ({ name, user: 'test', ...extra });

beforeAll(async () => {
  running = await startMaster({ port: 0, grpc_port: 0, heartbeat_interval: 0.2, quiet: true });
  bystanderGrpc = new RawScheduler(running.grpcAddress);
  await bystanderGrpc.subscribe(info('bystander-grpc'));
  bystanderHttp = await subscribed('bystander-http', 'protobuf');
});
afterAll(async () => {
  for (const c of clients) c.close();
  bystanderGrpc?.close();
  await running?.stop();
});

function client(encoding: WireEncoding = 'json'): MesosHttpClient {
  const c = new MesosHttpClient({ master: running.httpAddress, encoding });
  clients.push(c);
  return c;
}

async function subscribed(name: string, encoding: WireEncoding = 'json', extra: Record<string, unknown> = {}): Promise<MesosHttpClient> {
  const c = client(encoding);
  const event = await c.subscribe(info(name, extra));
  expect(event.type).toBe('SUBSCRIBED');
  return c;
}

async function state(): Promise<any> {
  return (await fetch(`http://${running.httpAddress}/state`)).json();
}

const expectAnswer = (answer: HttpAnswer, status: number, message: string | RegExp) => {
  expect({ status: answer.status, text: answer.text.trim() }).toMatchObject({ status, text: expect.stringMatching(message) });
};

describe('SUBSCRIBE over HTTP', () => {
  it.each(['json', 'protobuf'] as const)('streams SUBSCRIBED first, with the stream id header (%s)', async (encoding) => {
    const c = await subscribed(`sub-${encoding}`, encoding);
    expect(c.subscribeHeaders['content-type']).toBe(encoding === 'json' ? 'application/json' : 'application/x-protobuf');
    expect(c.subscribeHeaders['transfer-encoding']).toBe('chunked');
    expect(c.subscribeHeaders['content-length']).toBeUndefined();
    expect(c.streamId).toMatch(/^[0-9a-f-]{36}$/);
    expect(c.frameworkId).toMatch(new RegExp(`^${running.master.options.id}-\\d{4}$`));
    const subscribedEvent = c.events[0]!.subscribed!;
    expect(subscribedEvent.heartbeat_interval_seconds).toBe(0.2);
    expect(subscribedEvent.master_info!.address!.port).toBe(Number(running.httpAddress.split(':')[1]));
    expect((await state()).frameworks.map((f: { name: string }) => f.name)).toContain(`sub-${encoding}`);
  });

  it('sends HEARTBEAT at the advertised interval', async () => {
    const c = await subscribed('beats');
    const t0 = Date.now();
    await c.next((e) => e.type === 'HEARTBEAT', 3000);
    expect(Date.now() - t0).toBeLessThan(1500);
  });

  it('answers in what Accept asks: JSON when missing or */*, protobuf when asked, 406 otherwise', async () => {
    const c = client();
    const body = c.encode({ type: 'SUBSCRIBE', subscribe: { framework_info: info('accept') } });
    const typeFor = async (accept: string | null) => {
      const headers: Record<string, string> = { 'Content-Type': 'application/json' };
      if (accept !== null) headers.Accept = accept;
      const { status, contentType } = await rawSubscribeHead(body, headers);
      return status === 200 ? contentType : status;
    };
    expect(await typeFor(null)).toBe('application/json');
    expect(await typeFor('*/*')).toBe('application/json');
    expect(await typeFor('application/*')).toBe('application/json');
    expect(await typeFor('application/x-protobuf')).toBe('application/x-protobuf');
    expect(await typeFor('application/json;q=0.5, application/x-protobuf')).toBe('application/x-protobuf');
    expect(await typeFor('text/html')).toBe(406);
    const refused = await c.post(body, { 'Content-Type': 'application/json', Accept: 'text/html' });
    expectAnswer(refused, 406, "Expecting 'Accept' to allow 'application/json' or 'application/x-protobuf'");
  });

  it('frames every event as one RecordIO record in one HTTP chunk', async () => {
    const socket = net.connect(Number(running.httpAddress.split(':')[1]), '127.0.0.1');
    const body = JSON.stringify({ type: 'SUBSCRIBE', subscribe: { framework_info: info('framing') } });
    socket.write(`POST /api/v1/scheduler HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAccept: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    let raw = Buffer.alloc(0);
    await new Promise<void>((resolve) => {
      socket.on('data', (d: Buffer) => {
        raw = Buffer.concat([raw, d]);
        if ((raw.toString('latin1').match(/HEARTBEAT/g) ?? []).length >= 2) resolve();
      });
    });
    socket.destroy();
    const text = raw.toString('latin1');
    const head = text.slice(0, text.indexOf('\r\n\r\n'));
    expect(head).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(head).toMatch(/\r\nMesos-Stream-Id: [0-9a-f-]{36}\r\n/i);
    // Undo the chunked transfer coding by hand: each chunk must hold exactly one whole record.
    let rest = raw.subarray(Buffer.byteLength(head, 'latin1') + 4);
    const types: string[] = [];
    while (rest.length > 0) {
      const crlf = rest.indexOf('\r\n');
      const size = parseInt(rest.subarray(0, crlf).toString('latin1'), 16);
      if (rest.length < crlf + 2 + size + 2) break; // The last chunk may be cut off.
      const chunk = rest.subarray(crlf + 2, crlf + 2 + size);
      rest = rest.subarray(crlf + 2 + size + 2);
      const match = /^(\d+)\n/.exec(chunk.toString('latin1'))!;
      expect(match).not.toBeNull();
      const record = chunk.subarray(match[0].length);
      expect(record.length).toBe(Number(match[1]));
      types.push(JSON.parse(record.toString('utf8')).type);
    }
    expect(types.slice(0, 3)).toEqual(['SUBSCRIBED', 'HEARTBEAT', 'HEARTBEAT']);
  });

  it('reads JSON as Mesos does: unknown fields ignored, null unset, numbers as strings, enums by name', async () => {
    const c = client();
    const event = await c.subscribe(
      { name: 'lenient', user: 'test', failover_timeout: '42.5', hostname: null, no_such_field: { x: 1 }, capabilities: [{ type: 'PARTITION_AWARE' }, { type: 'NO_SUCH_CAPABILITY' }] },
      { suppressed_roles: null },
    );
    expect(event.type).toBe('SUBSCRIBED');
    const fw = running.master.frameworks.get(c.frameworkId)!;
    expect(fw.info.failover_timeout).toBe(42.5);
    expect(fw.info.hostname).toBe('');
    // The unknown name leaves that capability's type unset (UNKNOWN), as Mesos's parser does.
    expect(fw.info.capabilities.map((cap) => cap.type)).toEqual(['PARTITION_AWARE', 'UNKNOWN']);
    expect(fw.partitionAware).toBe(true);
  });

  it('lets a framework fail over: the old stream gets ERROR and ends, its stream id is refused', async () => {
    const first = await subscribed('phoenix', 'json', { failover_timeout: 60 });
    const second = client('protobuf');
    const event = await second.subscribe(info('phoenix', { failover_timeout: 60, id: { value: first.frameworkId } }));
    expect(event.subscribed!.framework_id.value).toBe(first.frameworkId);
    expect((await first.next((e) => e.type === 'ERROR')).error!.message).toBe('Framework failed over');
    await first.streamEnded();
    expectAnswer(await first.call({ type: 'REVIVE' }), 400, /stream id .* does not match/);
    expect((await second.call({ type: 'REVIVE' })).status).toBe(202);
  });

  it('marks the framework disconnected when the client hangs up; calls get 403 until it subscribes again', async () => {
    const c = await subscribed('flaky', 'json', { failover_timeout: 60 });
    const { frameworkId, streamId } = c;
    c.close();
    await waitUntil(async () => (await state()).frameworks.find((f: { id: string }) => f.id === frameworkId)?.connected === false, 5000, 'the framework to show as disconnected');
    const again = client();
    again.frameworkId = frameworkId;
    expectAnswer(await again.call({ type: 'REVIVE' }, { 'Mesos-Stream-Id': streamId }), 403, `Framework '${frameworkId}' is not subscribed`);
    const event = await again.subscribe(info('flaky', { failover_timeout: 60, id: { value: frameworkId } }));
    expect(event.subscribed!.framework_id.value).toBe(frameworkId);
    expect(again.streamId).not.toBe(streamId);
    expect((await again.call({ type: 'REVIVE' })).status).toBe(202);
  });
});

describe('other calls over HTTP', () => {
  it.each(['json', 'protobuf'] as const)('answers 202 Accepted with an empty body (%s)', async (encoding) => {
    const c = await subscribed(`calls-${encoding}`, encoding);
    for (const call of [{ type: 'SUPPRESS' }, { type: 'REVIVE' }, { type: 'REQUEST', request: { requests: [] } }]) {
      const answer = await c.call(call);
      expect(answer.status).toBe(202);
      expect(answer.body.length).toBe(0);
    }
  });

  it('reconciles and kills unknown tasks, with updates on the stream', async () => {
    const c = await subscribed('reconciler', 'json', { capabilities: [{ type: 'PARTITION_AWARE' }] });
    expect((await c.call({ type: 'RECONCILE', reconcile: { tasks: [{ task_id: { value: 'ghost' } }] } })).status).toBe(202);
    const update = await c.next((e) => e.type === 'UPDATE' && e.update!.status.task_id.value === 'ghost');
    expect(update.update!.status).toMatchObject({ state: 'TASK_UNKNOWN', reason: 'REASON_RECONCILIATION' });
    expect(update.update!.status.uuid).toBeUndefined();
    expect((await c.call({ type: 'KILL', kill: { task_id: { value: 'phantom' } } })).status).toBe(202);
    expect((await c.next((e) => e.update?.status.task_id.value === 'phantom')).update!.status.state).toBe('TASK_UNKNOWN');
  });

  it('drops a launch on an unknown offer with TASK_DROPPED naming it', async () => {
    const c = await subscribed('bad-accept', 'protobuf', { capabilities: [{ type: 'PARTITION_AWARE' }] });
    const task = { name: 't', task_id: { value: 't1' }, agent_id: { value: 'a' }, command: { value: 'true' }, resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 0.1 } }] };
    const answer = await c.call({ type: 'ACCEPT', accept: { offer_ids: [{ value: 'no-such-offer' }], operations: [{ type: 'LAUNCH', launch: { task_infos: [task] } }] } });
    expect(answer.status).toBe(202);
    const update = await c.next((e) => e.type === 'UPDATE');
    expect(update.update!.status).toMatchObject({ state: 'TASK_DROPPED', reason: 'REASON_INVALID_OFFERS' });
    expect(update.update!.status.message).toContain('offer no-such-offer is unknown');
  });

  it('tears a framework down: 202, its stream ends, later calls find no framework', async () => {
    const c = await subscribed('short-lived');
    expect((await c.call({ type: 'TEARDOWN' })).status).toBe(202);
    await c.streamEnded();
    const st = await state();
    expect(st.completed_frameworks.map((f: { id: string }) => f.id)).toContain(c.frameworkId);
    expectAnswer(await c.call({ type: 'REVIVE' }), 400, `Framework '${c.frameworkId}' cannot be found`);
  });
});

describe('bad input', () => {
  let c: MesosHttpClient;
  beforeAll(async () => {
    c = await subscribed('target');
  });
  const json = { 'Content-Type': 'application/json' };
  const protobuf = { 'Content-Type': 'application/x-protobuf' };
  const withStream = () => ({ ...json, 'Mesos-Stream-Id': c.streamId });
  const revive = () => JSON.stringify({ type: 'REVIVE', framework_id: { value: c.frameworkId } });

  it('refuses other methods with 405 and Allow: POST', async () => {
    for (const method of ['GET', 'PUT', 'DELETE']) {
      const answer = await c.post('', {}, method);
      expectAnswer(answer, 405, `Expecting 'POST', received '${method}'`);
      expect(answer.headers.allow).toBe('POST');
    }
  });

  it('refuses a missing Content-Type with 400 and others with 415', async () => {
    expectAnswer(await c.post(revive(), {}), 400, "Expecting 'Content-Type' to be present");
    expectAnswer(await c.post(revive(), { 'Content-Type': 'text/plain' }), 415, "Expecting 'Content-Type' of application/json or application/x-protobuf, got 'text/plain'");
    expect((await c.post(revive(), { ...withStream(), 'Content-Type': 'Application/JSON; charset=utf-8' })).status).toBe(202);
  });

  it('refuses malformed JSON and protobuf with 400 and what is wrong', async () => {
    expectAnswer(await c.post('{"type": "REVIVE",', withStream()), 400, /^Failed to parse body into JSON: /);
    expectAnswer(await c.post('[1, 2]', withStream()), 400, 'Failed to convert JSON into Call protobuf: Call: expected a JSON object, got a JSON array');
    expectAnswer(await c.post(JSON.stringify({ type: 'KILL', framework_id: { value: c.frameworkId }, kill: { task_id: { value: 7 } } }), withStream()),
      400, 'Call.kill.task_id.value: expected a string, got number 7');
    expectAnswer(await c.post(JSON.stringify({ type: 'ACKNOWLEDGE', framework_id: { value: c.frameworkId }, acknowledge: { uuid: '!!not base64!!' } }), withStream()),
      400, "Call.acknowledge.uuid: '!!not base64!!' is not valid base64");
    expectAnswer(await c.post(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]), { ...protobuf, 'Mesos-Stream-Id': c.streamId }), 400,
      /^Failed to parse body into Call protobuf: /);
  });

  it('refuses unknown and unsupported call types with 400', async () => {
    expectAnswer(await c.post(JSON.stringify({ type: 'LAUNCH_ROCKETS', framework_id: { value: c.frameworkId } }), withStream()), 400, 'Call.type is missing or UNKNOWN');
    const ninetyNine = Buffer.from(protoRoot.lookupType('mesos.v1.scheduler.Call').encode({ type: 99, framework_id: { value: c.frameworkId } }).finish());
    expectAnswer(await c.post(ninetyNine, { ...protobuf, 'Mesos-Stream-Id': c.streamId }), 400, 'Call.type 99 is not supported by mesos-ts');
    expectAnswer(await c.call({ type: 'RECONCILE_OPERATIONS' }), 400, 'not supported by mesos-ts');
    // Inverse offers are (maintenance): an answer naming none is accepted and does nothing.
    expect((await c.call({ type: 'ACCEPT_INVERSE_OFFERS', accept_inverse_offers: { inverse_offer_ids: [] } })).status).toBe(202);
    expectAnswer(await c.call({ type: 'ACCEPT' }), 400, 'Call.accept is required for a ACCEPT call');
  });

  it('refuses a body over the limit with 413', async () => {
    const big = Buffer.alloc(MAX_BODY_BYTES + 1, 0x20);
    expectAnswer(await c.post(big, withStream()), 413, `Request body exceeds the limit of ${MAX_BODY_BYTES} bytes`);
    expect((await c.post(revive(), withStream())).status).toBe(202);
  });

  it('wants framework_id, a known framework and the matching Mesos-Stream-Id', async () => {
    expectAnswer(await c.post(JSON.stringify({ type: 'REVIVE' }), withStream()), 400, 'Call.framework_id is required for a REVIVE call');
    expectAnswer(await c.post(JSON.stringify({ type: 'REVIVE', framework_id: { value: 'nobody' } }), withStream()), 400, "Framework 'nobody' cannot be found");
    expectAnswer(await c.post(revive(), json), 400, "All non-subscribe calls should include the 'Mesos-Stream-Id' header");
    expectAnswer(await c.post(revive(), { ...json, 'Mesos-Stream-Id': 'not-the-stream' }), 400,
      `the stream id 'not-the-stream' does not match framework ${c.frameworkId}'s subscription`);
    // Another framework's stream id is no better.
    expectAnswer(await c.post(revive(), { ...json, 'Mesos-Stream-Id': bystanderHttp.streamId }), 400, /does not match/);
  });

  it('refuses a SUBSCRIBE carrying a Mesos-Stream-Id or an invalid FrameworkInfo', async () => {
    const subscribe = (frameworkInfo: object) => JSON.stringify({ type: 'SUBSCRIBE', subscribe: { framework_info: frameworkInfo } });
    expectAnswer(await c.post(subscribe(info('x')), withStream()), 400, "Subscribe calls should not include the 'Mesos-Stream-Id' header");
    expectAnswer(await c.post(subscribe({ user: 'x' }), json), 400, 'Call.subscribe.framework_info.name is required');
    expectAnswer(await c.post(subscribe(info('x', { roles: ['a'] })), json), 400, 'roles needs the MULTI_ROLE capability');
    await expect(client().subscribe({ user: 'nameless' })).rejects.toBeInstanceOf(SubscribeRefused);
  });

  it('maps the master handlers\' errors: unknown agent 404, a state conflict 409', async () => {
    expectAnswer(await c.call({ type: 'ACKNOWLEDGE', acknowledge: { agent_id: { value: 'no-agent' }, task_id: { value: 't' }, uuid: Buffer.alloc(16).toString('base64') } }),
      404, 'acknowledge: agent no-agent is unknown');
    expectAnswer(await c.call({ type: 'UPDATE_FRAMEWORK', update_framework: { framework_info: info('target', { id: { value: 'someone-else' } }) } }),
      409, `update_framework: framework_info.id must be ${c.frameworkId}`);
  });

  it('leaves the other frameworks alone', async () => {
    const seen = bystanderHttp.events.length;
    await bystanderHttp.next((e) => e.type === 'HEARTBEAT' && bystanderHttp.events.indexOf(e) >= seen, 3000);
    expect(bystanderHttp.ended).toBe(false);
    expect(bystanderHttp.events.some((e) => e.type === 'ERROR')).toBe(false);
    expect(bystanderGrpc.events.some((e) => e.type === 'ERROR')).toBe(false);
    expect((await bystanderHttp.call({ type: 'REVIVE' })).status).toBe(202);
    await bystanderGrpc.call('Revive', { type: 'REVIVE' });
    const st = await state();
    for (const fw of [bystanderHttp.frameworkId, bystanderGrpc.frameworkId, c.frameworkId]) {
      expect(st.frameworks.find((f: { id: string }) => f.id === fw)?.connected).toBe(true);
    }
  });
});

describe('a master that does not lead', () => {
  it('redirects with 307 to the leader, or answers 503 while none is known; waits while taking over', async () => {
    let leaderHttp: string | null = 'leader.example:5050';
    let acting = false;
    let takingOver: Promise<void> | null = null;
    const http = await startMasterHttp({
      ip: '127.0.0.1', port: 0,
      handlers: [schedulerHttpApi({
        leader: () => {
          if (!acting) throw new Unavailable(leaderHttp ? `not the leader; the leading master is ${leaderHttp}` : 'not the leader; no leader is elected yet');
          return running.master;
        },
        ready: async () => void (await takingOver),
        leaderHttp: () => leaderHttp,
      })],
    });
    try {
      const standby = new MesosHttpClient({ master: `127.0.0.1:${http.port}`, encoding: 'json' });
      clients.push(standby);
      const subscribe = JSON.stringify({ type: 'SUBSCRIBE', subscribe: { framework_info: info('redirected') } });
      for (const path of ['/api/v1/scheduler', '/master/api/v1/scheduler']) {
        const answer = await standby.post(subscribe, { 'Content-Type': 'application/json' }, 'POST', path);
        expect(answer.status).toBe(307);
        expect(answer.headers.location).toBe(`//leader.example:5050${path}`);
      }
      expect((await standby.post('', {}, 'GET')).status).toBe(307);
      leaderHttp = null;
      expectAnswer(await standby.post(subscribe, { 'Content-Type': 'application/json' }), 503, 'not the leader; no leader is elected yet');
      // Elected: a SUBSCRIBE arriving while the registry is read waits for it, then succeeds.
      takingOver = new Promise((resolve) => setTimeout(() => {
        acting = true;
        takingOver = null;
        resolve();
      }, 300));
      const t0 = Date.now();
      const event = await standby.subscribe(info('waited'));
      expect(event.type).toBe('SUBSCRIBED');
      expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
      standby.close();
    } finally {
      http.server.closeAllConnections();
      await new Promise((r) => http.server.close(r));
    }
  });
});

/** Status and Content-Type of a SUBSCRIBE's answer; the stream is dropped at once. */
function rawSubscribeHead(body: Buffer, headers: Record<string, string>): Promise<{ status: number; contentType: string | undefined }> {
  const [host, port] = running.httpAddress.split(':');
  return new Promise((resolve, reject) => {
    const req = request({ host, port: Number(port), path: '/api/v1/scheduler', method: 'POST', agent: false, headers: { ...headers, 'Content-Length': body.length } });
    req.on('error', reject);
    req.on('response', (res) => {
      resolve({ status: res.statusCode ?? 0, contentType: res.headers['content-type'] });
      req.destroy();
    });
    req.end(body);
  });
}

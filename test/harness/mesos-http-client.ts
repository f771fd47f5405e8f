// A Mesos v1 scheduler HTTP client written from Apache Mesos's documentation
// alone (docs/scheduler-http-api.md, docs/recordio.md), not from our server's
// code: it checks that a scheduler built the documented way works against
// our master. It speaks JSON or protobuf (the .proto files are the
// documented schema), keeps the SUBSCRIBE connection apart from the one its
// calls use, reads the event stream as RecordIO, and can follow a 307 to the
// leading master.
//
// Events are handed out in Mesos's JSON shape whatever the encoding (enum
// names, bytes in base64, unset fields absent), so a test reads the same
// with either.
import * as http from 'node:http';
import * as https from 'node:https';
import type { Tls } from '../../common/tls.js';
import { protoRoot } from '../../proto/index.js';
import { STREAM_ID_HEADER, STREAM_ID_KEY } from '../../common/stream-id.js';

export type WireEncoding = 'json' | 'protobuf';
const MEDIA: Record<WireEncoding, string> = { json: 'application/json', protobuf: 'application/x-protobuf' };
const CALL = protoRoot.lookupType('mesos.v1.scheduler.Call');
const EVENT = protoRoot.lookupType('mesos.v1.scheduler.Event');

export interface JsonId { value: string }
export interface JsonResource { name: string; type: string; scalar?: { value: number }; ranges?: { range: { begin: number; end: number }[] }; role?: string }
export interface JsonOffer { id: JsonId; framework_id: JsonId; agent_id: JsonId; hostname: string; resources: JsonResource[]; attributes?: unknown[] }
export interface JsonStatus {
  task_id: JsonId; state: string; agent_id?: JsonId; uuid?: string; reason?: string; message?: string; source?: string; timestamp?: number;
}
/** An Event as Mesos writes it in JSON. */
export interface MesosEvent {
  type: string;
  subscribed?: { framework_id: JsonId; heartbeat_interval_seconds?: number; master_info?: { id: string; address?: { port: number } } };
  offers?: { offers: JsonOffer[] };
  rescind?: { offer_id: JsonId };
  update?: { status: JsonStatus };
  error?: { message: string };
  [field: string]: unknown;
}
/** A Call in Mesos's JSON shape (also what the protobuf mode encodes from). */
export type MesosCall = { type: string; [field: string]: unknown };

export interface HttpAnswer { status: number; headers: http.IncomingHttpHeaders; body: Buffer; text: string }

/** A non-200 answer to SUBSCRIBE. */
export class SubscribeRefused extends Error {
  constructor(readonly answer: HttpAnswer) {
    super(`SUBSCRIBE answered ${answer.status}: ${answer.text.trim()}`);
  }
}

/**
 * docs/recordio.md: records = *(record-size LF record-data), the size in
 * decimal; chunk boundaries mean nothing. Feed it bytes as they come; it
 * returns the records completed so far.
 */
export class RecordIoReader {
  private buffer: Buffer = Buffer.alloc(0);
  private expected: number | null = null;

  push(chunk: Buffer): Buffer[] {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const records: Buffer[] = [];
    for (;;) {
      if (this.expected === null) {
        const lf = this.buffer.indexOf(0x0a);
        if (lf < 0) break;
        const line = this.buffer.subarray(0, lf).toString('ascii');
        this.buffer = this.buffer.subarray(lf + 1);
        if (line.length === 0) continue; // The docs' reader skips empty lines.
        if (!/^\d+$/.test(line)) throw new Error(`RecordIO: '${line}' is not a record size`);
        this.expected = Number(line);
      }
      if (this.buffer.length < this.expected) break;
      records.push(this.buffer.subarray(0, this.expected));
      this.buffer = this.buffer.subarray(this.expected);
      this.expected = null;
    }
    return records;
  }

  /** Bytes of a record begun but not finished (a stream must not end inside one). */
  get pending(): number {
    return this.buffer.length + (this.expected === null ? 0 : 1);
  }
}

export interface MesosHttpClientOptions {
  /** host:port of any master; 307s lead to the leader. */
  readonly master: string;
  readonly encoding: WireEncoding;
  /** Acknowledge every update that carries a uuid as it arrives, as a well-behaved scheduler does. */
  readonly autoAcknowledge?: boolean;
  /** Kept-alive connections for calls (8 by default); the subscription has its own. */
  readonly callConnections?: number;
  /** An `Authorization` header sent with SUBSCRIBE and every call (a master with --authenticate_http_frameworks). */
  readonly authorization?: string;
  /** https with this TLS (a master with LIBPROCESS_SSL_ENABLED); plain http without. */
  readonly tls?: Tls | null;
}

export class MesosHttpClient {
  readonly events: MesosEvent[] = [];
  streamId = '';
  frameworkId = '';
  /** The master this client talks to (after redirects). */
  master: string;
  /** Response headers of SUBSCRIBE. */
  subscribeHeaders: http.IncomingHttpHeaders = {};
  /** Set when the event stream ended (by the master or the network). */
  ended = false;
  autoAcknowledge: boolean;
  /** Calls go over their own kept-alive connections, never the subscription's. */
  private readonly agent: http.Agent;
  private subscription: http.ClientRequest | null = null;
  private waiters: (() => void)[] = [];
  private readonly acknowledged = new Set<string>();

  constructor(readonly options: MesosHttpClientOptions) {
    this.master = options.master;
    this.autoAcknowledge = options.autoAcknowledge ?? false;
    const keep = { keepAlive: true, maxSockets: options.callConnections ?? 8 };
    this.agent = options.tls ? new https.Agent({ ...keep, ...this.tlsOptions() }) : new http.Agent(keep);
  }

  /** Node's TLS options for the master's port, from `options.tls`. */
  private tlsOptions(): https.AgentOptions {
    const tls = this.options.tls;
    if (!tls) return {};
    return { ...(tls.ca ? { ca: tls.ca } : {}), ...(tls.cert && tls.key ? { cert: tls.cert, key: tls.key } : {}), rejectUnauthorized: tls.verifyServerCert };
  }

  /** http.request or https.request, as the master speaks. */
  private request(options: https.RequestOptions): http.ClientRequest {
    return this.options.tls ? https.request({ ...this.tlsOptions(), ...options }) : http.request(options);
  }

  get encoding(): WireEncoding {
    return this.options.encoding;
  }

  /** SUBSCRIBE; resolves with the first event (SUBSCRIBED or ERROR), rejects with SubscribeRefused on a 4xx/5xx. */
  async subscribe(frameworkInfo: Record<string, unknown>, extra: Record<string, unknown> = {}): Promise<MesosEvent> {
    const call: MesosCall = { type: 'SUBSCRIBE', subscribe: { framework_info: frameworkInfo, ...extra } };
    if (typeof frameworkInfo.id === 'object') call.framework_id = frameworkInfo.id;
    const body = this.encode(call);
    for (let hops = 0; hops < 5; hops++) {
      const outcome = await this.openStream(body);
      if (outcome === 'subscribed') return this.next((e) => e.type === 'SUBSCRIBED' || e.type === 'ERROR', 10_000);
      if (outcome.status === 307 && typeof outcome.headers.location === 'string') {
        this.master = leaderOf(outcome.headers.location);
        continue;
      }
      throw new SubscribeRefused(outcome);
    }
    throw new Error('SUBSCRIBE: too many redirects');
  }

  private openStream(body: Buffer): Promise<'subscribed' | HttpAnswer> {
    const [host, port] = splitHostPort(this.master);
    return new Promise((resolve, reject) => {
      // agent: false — a connection of its own, kept open as long as the subscription lasts.
      const req = this.request({
        host, port, path: '/api/v1/scheduler', method: 'POST', agent: false,
        headers: {
          'Content-Type': MEDIA[this.encoding], Accept: MEDIA[this.encoding], Connection: 'keep-alive', 'Content-Length': body.length,
          ...(this.options.authorization ? { Authorization: this.options.authorization } : {}),
        },
      });
      req.on('error', (err) => {
        this.markEnded();
        reject(err);
      });
      req.on('response', (res) => {
        if (res.statusCode !== 200) return void collect(res).then(resolve, reject);
        this.subscription = req;
        this.subscribeHeaders = res.headers;
        this.streamId = String(res.headers[STREAM_ID_KEY] ?? '');
        const encoding = res.headers['content-type'] === MEDIA.protobuf ? 'protobuf' : 'json';
        const reader = new RecordIoReader();
        res.on('data', (chunk: Buffer) => {
          for (const record of reader.push(chunk)) this.receive(decodeEvent(record, encoding));
        });
        res.on('end', () => this.markEnded());
        res.on('close', () => this.markEnded());
        res.on('error', () => this.markEnded());
        resolve('subscribed');
      });
      req.end(body);
    });
  }

  private receive(event: MesosEvent): void {
    if (event.type === 'SUBSCRIBED') this.frameworkId = event.subscribed!.framework_id.value;
    this.events.push(event);
    const status = event.update?.status;
    if (this.autoAcknowledge && status?.uuid) void this.acknowledge(status).catch(() => {});
    this.wake();
  }

  private markEnded(): void {
    this.ended = true;
    this.wake();
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** ACKNOWLEDGE of an update, once per uuid. */
  async acknowledge(status: JsonStatus): Promise<HttpAnswer | null> {
    if (!status.uuid || this.acknowledged.has(status.uuid)) return null;
    this.acknowledged.add(status.uuid);
    return this.call({ type: 'ACKNOWLEDGE', acknowledge: { agent_id: status.agent_id, task_id: status.task_id, uuid: status.uuid } });
  }

  /** Any call but SUBSCRIBE, with this framework's id and stream id (unless the call or `headers` say otherwise). */
  call(call: MesosCall, headers: Record<string, string> = { [STREAM_ID_HEADER]: this.streamId }): Promise<HttpAnswer> {
    return this.post(this.encode({ framework_id: { value: this.frameworkId }, ...call }), { 'Content-Type': MEDIA[this.encoding], ...headers });
  }

  /** A raw request to the scheduler endpoint, for tests of bad input. */
  post(body: Buffer | string, headers: Record<string, string>, method = 'POST', path = '/api/v1/scheduler'): Promise<HttpAnswer> {
    const [host, port] = splitHostPort(this.master);
    const bytes = typeof body === 'string' ? Buffer.from(body) : body;
    return new Promise((resolve, reject) => {
      const auth = this.options.authorization ? { Authorization: this.options.authorization } : {};
      const req = this.request({ host, port, path, method, agent: this.agent, headers: { ...auth, ...headers, 'Content-Length': bytes.length } });
      req.on('error', reject);
      req.on('response', (res) => void collect(res).then(resolve, reject));
      req.end(bytes);
    });
  }

  encode(call: MesosCall): Buffer {
    if (this.encoding === 'json') return Buffer.from(JSON.stringify(call));
    return Buffer.from(CALL.encode(CALL.fromObject(call)).finish());
  }

  /** Waits for the first event (already seen or future) matching `pred`. */
  async next(pred: (e: MesosEvent) => boolean, timeoutMs = 15_000): Promise<MesosEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.find(pred);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no matching event within ${timeoutMs} ms; saw ${this.events.map(describeEvent).join(', ')}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
  }

  /** Waits until the event stream has ended. */
  async streamEnded(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.ended) {
      if (Date.now() > deadline) throw new Error(`the event stream did not end within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  /** Hangs up the subscription (the master sees the scheduler disconnect) and the call connections. */
  close(): void {
    this.subscription?.destroy();
    this.subscription = null;
    this.agent.destroy();
  }
}

function decodeEvent(record: Buffer, encoding: WireEncoding): MesosEvent {
  if (encoding === 'json') return JSON.parse(record.toString('utf8')) as MesosEvent;
  return EVENT.toObject(EVENT.decode(record), { enums: String, longs: Number, bytes: String }) as MesosEvent;
}

function collect(res: http.IncomingMessage): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('error', reject);
    res.on('end', () => {
      const body = Buffer.concat(chunks);
      resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text: body.toString('utf8') });
    });
  });
}

/** "Location: //host:port/api/v1/scheduler" (or a bare host:port, as the docs' example shows) → host:port. */
export function leaderOf(location: string): string {
  const withoutScheme = location.replace(/^[a-z]+:/i, '').replace(/^\/\//, '');
  return withoutScheme.split('/')[0]!;
}

function splitHostPort(address: string): [string, number] {
  const i = address.lastIndexOf(':');
  return [address.slice(0, i), Number(address.slice(i + 1))];
}

export function describeEvent(e: MesosEvent): string {
  if (e.type === 'UPDATE') return `UPDATE(${e.update?.status.task_id.value}:${e.update?.status.state})`;
  if (e.type === 'OFFERS') return `OFFERS(${e.offers?.offers.length ?? 0})`;
  if (e.type === 'ERROR') return `ERROR(${e.error?.message})`;
  return e.type;
}

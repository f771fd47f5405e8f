// The cluster a fuzz test throws bad input at: a real master and a real
// agent as processes (test/harness/processes.ts), a bystander framework over
// gRPC with one task running in a container, and what a fuzz test checks
// after each call: both processes alive and serving (GET_HEALTH over gRPC,
// GET_STATE over HTTP, the agent's /state still running the task), and the
// master's state, minus what changes by itself (times, offers), as before.
// Also a raw gRPC client that sends any bytes to any method.
import * as grpc from '@grpc/grpc-js';
import { request } from 'node:http';
import { isDeepStrictEqual } from 'node:util';
import { expect } from 'vitest';
import { ProcessGroup, type AgentProc, type MasterProc } from './processes.js';
import { RawScheduler, commandTask, isUpdate } from './grpc-scheduler.js';
import { waitUntil } from './wait-until.js';
import { messageSizeOptions } from '../../common/grpc-limits.js';

/** The master's --max_grpc_message_size in the fuzz tests: small, so that an oversized message is cheap to send. */
export const FUZZ_MAX_GRPC_MESSAGE_SIZE = 1024 * 1024;

export interface GrpcAnswer {
  readonly code: number;
  readonly details: string;
  /** The response (unary) or first message (streams), when there was one. */
  readonly message: Buffer | null;
}

const identity = (b: Buffer) => b;

/** A gRPC client of no service: any bytes to any method path, answers as bytes; it sends up to 64 MiB so that the server's limit is what is tested. */
export class RawGrpc {
  readonly client: grpc.Client;

  constructor(address: string) {
    this.client = new grpc.Client(address, grpc.credentials.createInsecure(), messageSizeOptions(64 * 1024 * 1024));
  }

  /** One unary call; the deadline only catches a server that never answers. */
  unary(path: string, body: Buffer, metadata = new grpc.Metadata(), deadlineMs = 20_000): Promise<GrpcAnswer> {
    return new Promise((resolve) => {
      this.client.makeUnaryRequest(path, identity, identity, body, metadata, { deadline: Date.now() + deadlineMs }, (err, res) => {
        resolve(err ? { code: err.code, details: err.details, message: null } : { code: grpc.status.OK, details: '', message: res ?? null });
      });
    });
  }

  /** A server-streaming call: settles with its first message (then cancels it) or its status. */
  firstOfStream(path: string, body: Buffer, metadata = new grpc.Metadata(), deadlineMs = 20_000): Promise<GrpcAnswer> {
    return new Promise((resolve) => {
      const call = this.client.makeServerStreamRequest(path, identity, identity, body, metadata, { deadline: Date.now() + deadlineMs });
      let done = false;
      const settle = (a: GrpcAnswer) => {
        if (done) return;
        done = true;
        resolve(a);
        call.cancel();
      };
      call.on('data', (m: Buffer) => settle({ code: grpc.status.OK, details: '', message: m }));
      call.on('error', (err: grpc.ServiceError) => settle({ code: err.code, details: err.details, message: null }));
      call.on('status', (s: grpc.StatusObject) => settle({ code: s.code, details: s.details, message: null }));
    });
  }

  close(): void {
    this.client.close();
  }
}

/** GET_STATE's JSON without what changes by itself or by allocation: times, offers and offered resources, Mesos's statuses' timestamps. */
export function stableState(state: unknown): unknown {
  const VOLATILE = new Set(['registered_time', 'reregistered_time', 'unregistered_time', 'timestamp', 'offers', 'offered_resources', 'inverse_offers', 'start_time']);
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (typeof v !== 'object' || v === null) return v;
    return Object.fromEntries(Object.entries(v).filter(([k]) => !VOLATILE.has(k)).map(([k, x]) => [k, walk(x)]));
  };
  return walk(state);
}

export class FuzzCluster {
  readonly group = new ProcessGroup();
  master!: MasterProc;
  agent!: AgentProc;
  bystander!: RawScheduler;
  agentId = '';
  taskId = 'bystander-sleep';
  health!: RawGrpc;

  /** Master, agent, and the bystander's task running. `masterFlags` are added to the master's. */
  async start(masterFlags: string[] = [], agentResources = 'cpus:1;mem:256;disk:64;ports:[32700-32709]'): Promise<void> {
    this.master = await this.group.spawnMaster('master', [
      `--max_grpc_message_size=${FUZZ_MAX_GRPC_MESSAGE_SIZE}`, '--allocation_interval=0.1', '--heartbeat_interval=5', ...masterFlags,
    ]);
    this.agent = await this.group.spawnAgent('agent', [`--master=${this.master.grpcAddress}`, `--resources=${agentResources}`]);
    await waitUntil(async () => ((await this.state()) as AnyState).get_state?.get_agents?.agents?.length === 1, 30_000, 'the agent registered');
    this.agentId = ((await this.state()) as AnyState).get_state!.get_agents!.agents![0]!.agent_info.id.value;
    this.health = new RawGrpc(this.master.grpcAddress);
    this.bystander = new RawScheduler(this.master.grpcAddress);
    this.bystander.autoAcknowledge = true;
    await this.bystander.subscribe({ name: 'bystander', user: 'root', failover_timeout: 3600 });
    const offers = await this.bystander.next((e) => e.type === 'OFFERS', 30_000);
    // Suppressed first: no other offer reaches it, and its state stays put while fuzzed calls come in.
    await this.bystander.call('Suppress', { type: 'SUPPRESS' });
    await this.bystander.launch(offers.offers!.offers[0]!, [commandTask(this.taskId, offers.offers!.offers[0]!, 'sleep 3600', 'cpus:0.1;mem:32')], 3600);
    await this.bystander.next(isUpdate(this.taskId, 'TASK_RUNNING'), 60_000);
    await waitUntil(async () => this.bystanderTaskState(await this.state()) === 'TASK_RUNNING', 30_000, 'the master saw TASK_RUNNING');
  }

  /** The leading master's GET_STATE, as JSON. */
  async state(): Promise<unknown> {
    const res = await fetch(`http://${this.master.httpAddress}/api/v1`, {
      method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/json' }, body: JSON.stringify({ type: 'GET_STATE' }),
      signal: AbortSignal.timeout(20_000),
    });
    expect(res.status, 'GET_STATE answered').toBe(200);
    return res.json();
  }

  /**
   * The state once two reads in a row agree: GET_STATE may answer from a
   * build a little behind the master (master/bounded-staleness.ts) when a
   * build was slow, as the first ones are.
   */
  async settledState(): Promise<unknown> {
    let last = stableState(await this.state());
    for (;;) {
      const next = stableState(await this.state());
      if (isDeepStrictEqual(next, last)) return next;
      last = next;
    }
  }

  /** Asserts that `project` of the state comes to equal `expected` (allowing for a build behind, see settledState()). */
  async expectState(project: (state: unknown) => unknown, expected: unknown, what: string): Promise<void> {
    const deadline = Date.now() + 5000;
    for (;;) {
      const now = project(await this.state());
      if (isDeepStrictEqual(now, expected)) return;
      if (Date.now() > deadline) return void expect(now, what).toEqual(expected);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** What no call but the bystander's own (or its agent's) may change: the real agent, the tasks on it, the bystander's info and connection. */
  readonly corePart = (state: unknown): unknown => {
    const s = stableState(state) as AnyState & { get_state?: { get_frameworks?: { frameworks?: { framework_info: { id: { value: string } }; active?: boolean; connected?: boolean }[] } } };
    return {
      agents: s.get_state?.get_agents?.agents?.filter((a) => a.agent_info.id.value === this.agentId),
      tasks: s.get_state?.get_tasks?.tasks?.filter((t) => t.agent_id?.value === this.agentId),
      // Its info and connection; its allocation grows legitimately when a (re-)registering agent reports a task of it, as Mesos adopts them.
      bystander: ((f) => f && { framework_info: f.framework_info, active: f.active, connected: f.connected })(
        s.get_state?.get_frameworks?.frameworks?.find((f) => f.framework_info.id.value === this.bystander.frameworkId),
      ),
    };
  };

  bystanderTaskState(state: unknown): string | undefined {
    return (state as AnyState).get_state?.get_tasks?.tasks?.find((t) => t.task_id.value === this.taskId)?.state;
  }

  /** Both processes alive and serving: GET_HEALTH over gRPC, the bystander's RECONCILE, the agent's /state with the task; resolves with the master's state. */
  async assertServing(): Promise<unknown> {
    expect(this.master.alive(), 'the master process is alive').toBe(true);
    expect(this.agent.alive(), 'the agent process is alive').toBe(true);
    const health = await this.health.unary('/mesos_ts.operator.Operator/GetHealth', Buffer.from([0x08, 0x01]));
    expect(health.code, `GetHealth: ${health.details}`).toBe(grpc.status.OK);
    await this.bystander.call('Reconcile', { type: 'RECONCILE', reconcile: { tasks: [] } });
    const agentState = await fetch(`http://${this.agent.httpAddress}/state`, { signal: AbortSignal.timeout(20_000) }).then((r) => r.json()) as {
      frameworks?: { executors?: { tasks?: { id: string; state: string }[] }[] }[];
    };
    const tasks = (agentState.frameworks ?? []).flatMap((f) => f.executors ?? []).flatMap((e) => e.tasks ?? []);
    expect(tasks.find((t) => t.id === this.taskId)?.state, "the agent's /state runs the bystander's task").toBe('TASK_RUNNING');
    const state = await this.state();
    expect(this.bystanderTaskState(state)).toBe('TASK_RUNNING');
    return state;
  }

  async stop(): Promise<void> {
    this.bystander?.close();
    this.health?.close();
    await this.group.stopAll();
  }
}

interface AnyState {
  get_state?: {
    get_agents?: { agents?: { agent_info: { id: { value: string } } }[] };
    get_tasks?: { tasks?: { task_id: { value: string }; agent_id?: { value: string }; state: string }[] };
  };
}

export interface LinkAnswer {
  /** The MasterMessages received, decoded. */
  readonly messages: { kind: string; registered?: { agent_id: { value: string } }; refused?: { message: string } }[];
  /** The stream's status when it ended. */
  readonly code: number;
  readonly details: string;
}

/**
 * One AgentLink stream carrying `messages` (raw bytes), then half-closed:
 * settles with what the master sent and how the stream ended. The deadline
 * only catches a master that never ends the stream.
 */
export function agentLinkExchange(raw: RawGrpc, messages: readonly Buffer[], decode: (b: Buffer) => LinkAnswer['messages'][number], deadlineMs = 20_000): Promise<LinkAnswer> {
  return new Promise((resolve) => {
    const call = raw.client.makeBidiStreamRequest('/mesos_ts.internal.AgentLink/Connect', identity, identity, new grpc.Metadata(), { deadline: Date.now() + deadlineMs });
    const received: LinkAnswer['messages'][number][] = [];
    let done = false;
    const settle = (code: number, details: string) => {
      if (done) return;
      done = true;
      resolve({ messages: received, code, details });
    };
    call.on('data', (m: Buffer) => {
      received.push(decode(m));
      // Registered: the rest of our messages go on a registered link; then we leave.
      if (received.length === 1) {
        for (const m of messages.slice(1)) call.write(m);
        call.end();
      }
    });
    call.on('error', (err: grpc.ServiceError) => settle(err.code, err.details));
    call.on('status', (s: grpc.StatusObject) => settle(s.code, s.details));
    call.write(messages[0]!);
    // Nothing more is read before the master answers the first message; what follows it (garbage too) is sent once it has.
    if (messages.length === 1) call.end();
  });
}

export interface HttpAnswer {
  /** 0 when the connection failed before any answer. */
  readonly status: number;
  readonly text: string;
}

/** One HTTP request on a connection of its own; the deadline only catches a server that never answers. */
export function httpExchange(address: string, path: string, method: string, headers: Record<string, string>, body: Buffer, deadlineMs = 20_000): Promise<HttpAnswer> {
  const [host, port] = address.split(':');
  return new Promise((resolve) => {
    let done = false;
    const settle = (a: HttpAnswer) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(a);
    };
    const req = request({ host, port: Number(port), path, method, agent: false, headers: { ...headers, 'Content-Length': body.length } }, (res) => {
      const chunks: Buffer[] = [];
      // A 200 SUBSCRIBE stays open: its first chunk is answer enough.
      res.on('data', (c: Buffer) => {
        chunks.push(c);
        if (res.statusCode === 200 && res.headers['transfer-encoding'] === 'chunked') {
          settle({ status: 200, text: Buffer.concat(chunks).toString('utf8') });
          req.destroy();
        }
      });
      res.on('end', () => settle({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', () => settle({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
    });
    const timer = setTimeout(() => {
      req.destroy();
      settle({ status: 0, text: `no answer within ${deadlineMs} ms` });
    }, deadlineMs);
    // A server answering 413 early may close while the body is still going out: the answer, when it came, is what counts.
    req.on('error', (err) => setTimeout(() => settle({ status: 0, text: err.message }), 100));
    req.end(body);
  });
}

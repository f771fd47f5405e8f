// Fuzzing the v1 scheduler HTTP API (fast-check): random Calls in JSON and
// protobuf — random types, fields drawn from the schema, missing or
// wrongly typed fields, unknown fields, random bytes, wrong headers — plus
// well-formed ACCEPT/DECLINE/KILL/RECONCILE built from the offers and tasks
// the fuzzed frameworks really hold, sent at a master with a real agent
// (agent/main.ts: its tasks run `true` in containers of the test image).
// Each answer must be a 2xx or a 4xx within 5 s; afterwards the master must
// be up, a bystander framework untouched, /state agree with what the agent
// runs, and every resource come back once the fuzzed frameworks are gone.
// Every container the agent started is removed in afterAll. FUZZ_RUNS and
// FUZZ_SEED reproduce or lengthen a run.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { request } from 'node:http';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import type { Type } from 'protobufjs';
import { startMaster, type RunningMaster } from '../../master/main.js';
import { startAgent, type RunningAgent } from '../../agent/main.js';
import { protoRoot, type TaskState } from '../../proto/index.js';
import { RawScheduler, TEST_IMAGE } from '../harness/grpc-scheduler.js';
import { containersUnder } from '../harness/cluster.js';
import { waitUntil } from '../harness/wait-until.js';
import { MesosHttpClient, type JsonOffer, type MesosCall, type WireEncoding } from '../harness/mesos-http-client.js';
import { isTerminal } from '../../common/task-state.js';
import { message, value } from '../harness/fuzz-arbitraries.js';

const CALL = protoRoot.lookupType('mesos.v1.scheduler.Call');
const CALL_TYPES = Object.keys(protoRoot.lookupEnum('mesos.v1.scheduler.Call.Type').values);
// Small, so that few containers run at once; a port range no other test uses.
const AGENT_CPUS = 1;
const AGENT_RESOURCES = `cpus:${AGENT_CPUS};mem:256;disk:64;ports:[31990-31999]`;
const RUNS = Number(process.env.FUZZ_RUNS ?? 1000);
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);

let running: RunningMaster;
let agent: RunningAgent;
/** The agent's work_dir lives under it; every container it starts is labelled with that work_dir. */
let base: string;
let bystander: RawScheduler;
const fuzzed: Record<'A' | 'B', MesosHttpClient | null> = { A: null, B: null };
const retired: MesosHttpClient[] = [];
const statuses = new Map<number, number>();
/** Frameworks a fuzzed SUBSCRIBE registered and then hung up on: they wait out their failover_timeout. */
const disconnected: string[] = [];
let taskCounter = 0;

beforeAll(async () => {
  running = await startMaster({ port: 0, grpc_port: 0, heartbeat_interval: 0.5, allocation_interval: 0.05, quiet: true });
  base = mkdtempSync(join(tmpdir(), 'mesos-ts-fuzz-'));
  agent = await startAgent({
    master: running.grpcAddress, port: 0, work_dir: join(base, 'agent'), resources: AGENT_RESOURCES,
    docker_pull: 'never', kill_grace_period: 1, status_update_retry_interval: 1, quiet: true,
  });
  await waitUntil(() => agent.agentId() !== null, 10_000, 'agent registration');
  bystander = new RawScheduler(running.grpcAddress);
  await bystander.subscribe({ name: 'bystander', user: 'test', failover_timeout: 60 });
  await bystander.call('Suppress', { type: 'SUPPRESS' });
});
afterAll(async () => {
  for (const c of [...retired, fuzzed.A, fuzzed.B]) c?.close();
  bystander?.close();
  await agent?.stop({ killTasks: true }).catch(() => {});
  await running?.stop();
  if (base) {
    // The agent removes its containers when it stops; whatever it left is removed here.
    const docker = new Docker();
    for (const c of await containersUnder(base)) await docker.getContainer(c.Id).remove({ force: true }).catch(() => {});
    rmSync(base, { recursive: true, force: true });
  }
}, 60_000);

/** The fuzzed framework `name`, subscribed again whenever its stream ended (a fuzzed TEARDOWN, say). */
async function framework(name: 'A' | 'B'): Promise<MesosHttpClient> {
  const current = fuzzed[name];
  if (current && !current.ended) return current;
  if (current) retired.push(current);
  const c = new MesosHttpClient({ master: running.httpAddress, encoding: name === 'A' ? 'json' : 'protobuf', autoAcknowledge: true });
  const event = await c.subscribe({ name: `fuzz-${name}`, user: 'test', capabilities: [{ type: 'PARTITION_AWARE' }] });
  expect(event.type).toBe('SUBSCRIBED');
  fuzzed[name] = c;
  return c;
}

// ---- arbitraries -------------------------------------------------------

/** A random Call: a type (sometimes none known), its payload from the schema, sometimes another payload too. */
const randomCall = (json: boolean) =>
  fc.record({
    type: fc.oneof({ weight: 12, arbitrary: fc.constantFrom(...CALL_TYPES) }, { weight: 1, arbitrary: json ? fc.string({ maxLength: 10 }) : fc.integer({ min: 0, max: 40 }) }),
    extra: fc.option(fc.constantFrom(...CALL.fieldsArray.filter((f) => f.resolvedType && 'fields' in f.resolvedType).map((f) => f.name)), { freq: 5 }),
  }).chain(({ type, extra }) => {
    const payloadField = typeof type === 'string' ? CALL.fields[type.toLowerCase()] : undefined;
    const parts: Record<string, fc.Arbitrary<unknown>> = { type: fc.constant(type) };
    if (payloadField) parts[payloadField.name] = value(payloadField, 0, json);
    if (extra && extra !== payloadField?.name) parts[extra] = value(CALL.fields[extra]!, 0, json);
    return fc.record(parts);
  });

type Who = 'A' | 'B' | 'nobody' | 'missing' | 'disconnected';
type StreamChoice = 'right' | 'missing' | 'wrong' | 'bystander-like';
type Step =
  | { kind: 'random'; encoding: WireEncoding; who: Who; stream: StreamChoice; call: Record<string, unknown> }
  | { kind: 'garbage'; method: string; contentType: string | null; accept: string | null; body: Uint8Array }
  | { kind: 'subscribe'; encoding: WireEncoding; accept: string | null; failover: number; extra: Record<string, unknown> }
  | { kind: 'oversized'; encoding: WireEncoding }
  | { kind: 'accept'; who: 'A' | 'B'; tasks: { cpus: number; mem: number; dup: boolean; noId: boolean }[]; refuse: number }
  | { kind: 'decline' | 'reconcile' | 'kill'; who: 'A' | 'B'; pick: number };

const who = fc.constantFrom<Who>('A', 'A', 'B', 'B', 'nobody', 'missing', 'disconnected');
const stream = fc.constantFrom<StreamChoice>('right', 'right', 'right', 'missing', 'wrong', 'bystander-like');
const encoded = (encoding: WireEncoding) =>
  fc.record({ encoding: fc.constant(encoding), who, stream, call: randomCall(encoding === 'json') }).map((s) => ({ kind: 'random' as const, ...s }));
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 120, arbitrary: encoded('json') },
  { weight: 120, arbitrary: encoded('protobuf') },
  {
    weight: 40,
    arbitrary: fc.record({
      kind: fc.constant('garbage' as const),
      method: fc.constantFrom('POST', 'POST', 'POST', 'GET', 'PUT', 'DELETE'),
      contentType: fc.constantFrom('application/json', 'application/x-protobuf', 'text/plain', 'application/json; charset=utf-8', null),
      accept: fc.constantFrom(null, '*/*', 'application/x-protobuf', 'text/html'),
      body: fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.string({ maxLength: 200 }).map((s) => new TextEncoder().encode(s))),
    }),
  },
  {
    weight: 60,
    arbitrary: fc.record({
      kind: fc.constant('accept' as const), who: fc.constantFrom('A' as const, 'B' as const),
      tasks: fc.array(fc.record({ cpus: fc.constantFrom(0.1, 0.5, 1, 3, 0, -1), mem: fc.constantFrom(16, 64, 512, 8192), dup: fc.boolean(), noId: fc.boolean() }), { maxLength: 3 }),
      refuse: fc.constantFrom(0, 0, 1),
    }),
  },
  { weight: 40, arbitrary: fc.record({ kind: fc.constantFrom('decline' as const, 'reconcile' as const, 'kill' as const), who: fc.constantFrom('A' as const, 'B' as const), pick: fc.nat(20) }) },
  {
    weight: 20,
    arbitrary: fc.record({
      kind: fc.constant('subscribe' as const), encoding: fc.constantFrom<WireEncoding>('json', 'protobuf'),
      accept: fc.constantFrom(null, '*/*', 'application/json', 'application/x-protobuf', 'text/html'), failover: fc.constantFrom(0, 0.5, 60),
      extra: message(protoRoot.lookupType('mesos.v1.FrameworkInfo'), 2, false),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('oversized' as const), encoding: fc.constantFrom<WireEncoding>('json', 'protobuf') }) },
);

// ---- running a step ----------------------------------------------------

interface Exchange { status: number; text: string }

/** One request; a 200 SUBSCRIBE stream is hung up at once. Fails after 5 s: the master must never hang. */
function exchange(method: string, headers: Record<string, string>, body: Uint8Array): Promise<Exchange> {
  const [host, port] = running.httpAddress.split(':');
  return new Promise((resolve, reject) => {
    const req = request({ host, port: Number(port), path: '/api/v1/scheduler', method, agent: false, headers: { ...headers, 'Content-Length': body.length } });
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`no answer within 5 s to ${method} ${JSON.stringify(headers)}`));
    }, 5000);
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.on('response', (res) => {
      if (res.statusCode === 200) {
        clearTimeout(timer);
        req.destroy();
        return resolve({ status: 200, text: '' });
      }
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, text });
      });
    });
    req.end(body);
  });
}

const heldOffers = (c: MesosHttpClient, used: Set<string>): JsonOffer[] => {
  const rescinded = new Set(c.events.filter((e) => e.type === 'RESCIND').map((e) => e.rescind!.offer_id.value));
  return c.events.flatMap((e) => e.offers?.offers ?? []).filter((o) => !used.has(o.id.value) && !rescinded.has(o.id.value));
};
const usedOffers = new Set<string>();

async function run(s: Step): Promise<Exchange> {
  if (s.kind === 'garbage') {
    const headers: Record<string, string> = {};
    if (s.contentType) headers['Content-Type'] = s.contentType;
    if (s.accept) headers.Accept = s.accept;
    return exchange(s.method, headers, s.body);
  }
  if (s.kind === 'subscribe') {
    // A framework of its own (never a failover of A, B or the bystander); the stream is hung up at once.
    const id = `fz-sub-${taskCounter++}`;
    const frameworkInfo = { ...s.extra, id: { value: id }, name: 'fz-sub', failover_timeout: s.failover, roles: [], capabilities: [] };
    const call = { type: 'SUBSCRIBE', framework_id: { value: id }, subscribe: { framework_info: frameworkInfo } };
    const headers: Record<string, string> = { 'Content-Type': s.encoding === 'json' ? 'application/json' : 'application/x-protobuf' };
    if (s.accept) headers.Accept = s.accept;
    const body = s.encoding === 'json' ? Buffer.from(JSON.stringify(call)) : CALL.encode(CALL.fromObject(call)).finish();
    const answer = await exchange('POST', headers, body);
    if (answer.status === 200 && s.failover >= 60) disconnected.push(id);
    return answer;
  }
  if (s.kind === 'oversized') {
    return exchange('POST', { 'Content-Type': s.encoding === 'json' ? 'application/json' : 'application/x-protobuf' }, Buffer.alloc(4 * 1024 * 1024 + 1, 0x20));
  }
  const fw = await framework(s.kind === 'random' ? (s.who === 'B' ? 'B' : 'A') : s.who);
  if (s.kind === 'random') {
    const call = { ...s.call };
    if (s.who === 'A' || s.who === 'B') call.framework_id = { value: fw.frameworkId };
    if (s.who === 'nobody') call.framework_id = { value: 'nobody-0000' };
    if (s.who === 'disconnected') call.framework_id = { value: disconnected[taskCounter % Math.max(disconnected.length, 1)] ?? 'none-yet' };
    if (call.type === 'SUBSCRIBE' && typeof call.subscribe === 'object' && call.subscribe !== null) {
      // Never fail over the fuzzed frameworks or the bystander: a SUBSCRIBE names a framework of its own.
      const sub = call.subscribe as Record<string, unknown>;
      if (typeof sub.framework_info === 'object' && sub.framework_info !== null) (sub.framework_info as Record<string, unknown>).id = { value: `fz-sub-${taskCounter++}` };
      delete call.framework_id;
    }
    const headers: Record<string, string> = { 'Content-Type': s.encoding === 'json' ? 'application/json' : 'application/x-protobuf' };
    if (s.stream === 'right') headers['Mesos-Stream-Id'] = fw.streamId;
    if (s.stream === 'wrong') headers['Mesos-Stream-Id'] = 'not-a-stream';
    if (s.stream === 'bystander-like') headers['Mesos-Stream-Id'] = '00000000-0000-4000-8000-000000000000';
    let body: Uint8Array;
    try {
      body = s.encoding === 'json' ? Buffer.from(JSON.stringify(call)) : CALL.encode(CALL.fromObject(call)).finish();
    } catch {
      body = Buffer.from(JSON.stringify(call)); // Not expressible in protobuf: the bytes are garbage then.
    }
    return exchange('POST', headers, body);
  }
  const offers = heldOffers(fw, usedOffers);
  const call = (c: MesosCall) => fw.call(c).then((a) => ({ status: a.status, text: a.text }));
  switch (s.kind) {
    case 'accept': {
      const offer = offers[0];
      if (!offer) return call({ type: 'REVIVE' });
      usedOffers.add(offer.id.value);
      const tasks = s.tasks.map((t, i) => {
        const id = t.dup && i > 0 ? `fz-task-${taskCounter - 1}` : `fz-task-${taskCounter++}`;
        return {
          name: id, ...(t.noId ? {} : { task_id: { value: id } }), agent_id: offer.agent_id,
          command: { value: 'true' }, container: { type: 'DOCKER', docker: { image: TEST_IMAGE } },
          resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: t.cpus } }, { name: 'mem', type: 'SCALAR', scalar: { value: t.mem } }],
        };
      });
      return call({ type: 'ACCEPT', accept: { offer_ids: [offer.id], operations: [{ type: 'LAUNCH', launch: { task_infos: tasks } }], filters: { refuse_seconds: s.refuse } } });
    }
    case 'decline': {
      const ids = offers.map((o) => o.id);
      ids.forEach((id) => usedOffers.add(id.value));
      return ids.length > 0 ? call({ type: 'DECLINE', decline: { offer_ids: ids, filters: { refuse_seconds: 0 } } }) : call({ type: 'SUPPRESS' });
    }
    case 'reconcile':
    case 'kill': {
      const mine = [...agent.agent.runners.values()].filter((t) => t.frameworkId === fw.frameworkId);
      const target = mine.length > 0 ? mine[s.pick % mine.length]!.taskId : `ghost-${s.pick}`;
      if (s.kind === 'kill') return call({ type: 'KILL', kill: { task_id: { value: target } } });
      return call({ type: 'RECONCILE', reconcile: { tasks: s.pick % 3 === 0 ? [] : [{ task_id: { value: target } }] } });
    }
  }
}

// ---- the property and the checks after it ----------------------------

describe('fuzzing POST /api/v1/scheduler', () => {
  it('answers every call with a 2xx or a 4xx, never a 5xx or silence', async () => {
    await fc.assert(
      fc.asyncProperty(step, async (s) => {
        const { status, text } = await run(s);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        const ok = (status >= 200 && status < 300) || (status >= 400 && status < 500);
        if (!ok) throw new Error(`answered ${status}: ${text.trim()}`);
        if (status >= 400) expect(text.trim().length).toBeGreaterThan(0); // A refusal says why.
      }),
      { numRuns: RUNS, ...(SEED === undefined ? {} : { seed: SEED }) },
    );
    // The run exercised acceptance as well as refusal.
    expect(statuses.get(202) ?? 0).toBeGreaterThan(RUNS / 10);
    expect(statuses.get(400) ?? 0).toBeGreaterThan(RUNS / 10);
  }, 240_000);

  it('stays up, and leaves the bystander framework untouched', async () => {
    expect((await fetch(`http://${running.httpAddress}/health`)).status).toBe(200);
    expect(bystander.events.filter((e) => e.type === 'ERROR')).toEqual([]);
    const seen = bystander.events.length;
    await bystander.next((e) => e.type === 'HEARTBEAT' && bystander.events.indexOf(e) >= seen, 3000);
    await bystander.call('Revive', { type: 'REVIVE' });
    await bystander.call('Suppress', { type: 'SUPPRESS' });
  });

  it('keeps /state consistent with what the agent runs and what is offered', async () => {
    // Every update acknowledged (by the fuzzed schedulers, or by the master for removed frameworks).
    await waitUntil(() => agent.agent.updates.pending().length === 0, 15_000, 'every status update to be acknowledged');
    // The agent's tasks end on their own (`true`): read /state at a moment the agent stood still
    // throughout (nothing received or reported) with nothing left to acknowledge.
    let st: any;
    let agentHttp: any;
    await waitUntil(async () => {
      const version = agent.agent.version;
      if (agent.agent.updates.pending().length > 0) return false;
      st = await (await fetch(`http://${running.httpAddress}/state`)).json();
      agentHttp = await (await fetch(`http://${agent.httpAddress}/state`)).json();
      return agent.agent.version === version && agent.agent.updates.pending().length === 0;
    }, 15_000, 'the agent to stand still with every update acknowledged');
    const stateTasks = new Map<string, string>();
    // As in Mesos, a terminal task stays among `tasks` until its last update is acknowledged.
    for (const fw of st.frameworks) for (const t of fw.tasks) if (!isTerminal(t.state)) stateTasks.set(`${fw.id}/${t.id}`, t.state);
    const agentActive = new Map<string, string>(
      [...agent.agent.runners.values()].filter((r) => !isTerminal(r.state)).map((r) => [`${r.frameworkId}/${r.taskId}`, String(r.state)]),
    );
    expect(stateTasks).toEqual(agentActive);
    // The agent's own HTTP /state says the same: a task whose last update is acknowledged is a completed executor.
    const agentExecutors = agentHttp.frameworks.flatMap((f: any) => f.executors.map((e: any) => ({ framework: f.id, ...e })));
    expect(agentExecutors.filter((e: any) => e.completed_tasks.length > 0)).toEqual([]);
    const agentTasks = agentExecutors.flatMap((e: any) => [...e.tasks, ...e.queued_tasks].map((t: any) => ({ ...t, framework: e.framework })));
    expect(new Map<string, string>(agentTasks.map((t: any) => [`${t.framework}/${t.id}`, t.state ?? 'TASK_STAGING']))).toEqual(agentActive);
    // Every task the agent was given (each has a sandbox, kept for gc_delay) is one the master launched and still knows (active or completed).
    const given = sandboxes(agent.workDir);
    const givenKeys = new Set(given.map((t) => `${t.frameworkId}/${t.taskId}`));
    for (const key of agentActive.keys()) expect(givenKeys, key).toContain(key);
    for (const { frameworkId, taskId } of given) {
      expect(running.master.tasks.get(frameworkId, taskId) ?? running.master.tasks.completedTasks().find((c) => c.frameworkId === frameworkId && c.taskId === taskId), `${frameworkId}/${taskId}`).toBeDefined();
    }

    const [agentState] = st.slaves;
    for (const r of ['cpus', 'mem']) {
      expect(agentState.used_resources[r] ?? 0).toBeCloseTo(sum(st.frameworks.flatMap((f: any) => f.tasks.map((t: any) => t.resources[r] ?? 0))), 6);
      expect(agentState.used_resources[r] ?? 0).toBeCloseTo(sum(agentTasks.map((t: any) => t.resources[r] ?? 0)), 6); // What the agent's live tasks hold.
      expect((agentState.used_resources[r] ?? 0) + (agentState.offered_resources[r] ?? 0)).toBeLessThanOrEqual(agentState.resources[r] + 1e-9);
    }
    const offers = st.frameworks.flatMap((f: any) => f.offers.map((o: any) => ({ ...o, connected: f.connected })));
    expect(new Set(offers.map((o: any) => o.id)).size).toBe(offers.length);
    expect(offers.filter((o: any) => !o.connected)).toEqual([]); // A disconnected framework holds no offer.
    expect(sum(offers.map((o: any) => o.resources.cpus ?? 0))).toBeCloseTo(agentState.offered_resources.cpus ?? 0, 6);
  }, 40_000);

  it('gives every resource back once the fuzzed frameworks are gone', async () => {
    for (const name of ['A', 'B'] as const) {
      const c = await framework(name);
      expect((await c.call({ type: 'TEARDOWN' })).status).toBe(202);
    }
    // The agent kills what they still ran and forgets their tasks once the containers are gone.
    await waitUntil(() => agent.agent.updates.pending().length === 0 && agent.agent.runners.size === 0, 20_000, 'the torn-down tasks to end on the agent');
    await bystander.call('Revive', { type: 'REVIVE' });
    // What the bystander holds: every offer it got (it never answers one) that was not rescinded since,
    // including any it got while it was briefly revived in an earlier case.
    const offered = (name: string) => {
      const rescinded = new Set(bystander.events.filter((e) => e.type === 'RESCIND').map((e) => e.rescind!.offer_id!.value));
      const held = bystander.events.flatMap((e) => e.offers?.offers ?? []).filter((o) => !rescinded.has(o.id!.value));
      return sum(held.flatMap((o) => o.resources).filter((r) => r.name === name).map((r) => r.scalar!.value));
    };
    await waitUntil(() => Math.abs(offered('cpus') - AGENT_CPUS) < 1e-9, 10_000, `the whole agent (cpus:${AGENT_CPUS}) to be offered to the bystander`);
    expect(offered('mem')).toBeCloseTo(256, 6);
    const ended = new Map<string, number>(); // How the fuzzed frameworks' tasks ended (those the master refused too).
    for (const c of [...retired, fuzzed.A, fuzzed.B]) {
      for (const e of c?.events ?? []) if (e.update && isTerminal(e.update.status.state as TaskState)) ended.set(e.update.status.state, (ended.get(e.update.status.state) ?? 0) + 1);
    }
    console.log(`fuzz: ${RUNS} calls answered ${[...statuses].sort().map(([code, n]) => `${code}×${n}`).join(' ')}; ` +
      `the agent ran ${sandboxes(agent.workDir).length} task(s); the frameworks saw tasks end ${[...ended].sort().map(([state, n]) => `${state}×${n}`).join(' ') || '(none)'}`);
  }, 40_000);
});

/** Every task the agent made a sandbox for: work_dir/sandboxes/<framework>/<task>. */
function sandboxes(workDir: string): { frameworkId: string; taskId: string }[] {
  const root = join(workDir, 'sandboxes');
  if (!existsSync(root)) return [];
  return readdirSync(root).flatMap((frameworkId) => readdirSync(join(root, frameworkId)).map((taskId) => ({ frameworkId, taskId })));
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

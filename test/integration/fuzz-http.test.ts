// Fuzzing the HTTP APIs of a real master and agent as processes
// (test/harness/fuzz-cluster.ts): the master's operator API (/api/v1) and
// the agent's (/api/v1) with Calls drawn from the schema in JSON (wrong
// JSON types, unknown enum names and fields) and protobuf (unknown enum
// values, mutated encodings), random bytes, wrong methods, content types and
// Accept headers, huge repeated fields, bodies over each endpoint's limit;
// the scheduler API (/api/v1/scheduler) with what a confused client might
// send (RecordIO-framed and truncated calls, random bytes); the v0 write
// endpoints with random forms and JSON; the agent's file reads with paths
// that try to leave the sandboxes. Each answer must be a 2xx, a 4xx (413
// for an oversized body, naming the limit) or a 501 for a Mesos call not
// served; after each request both
// processes serve, a refused request left the master's state as it was, and
// an accepted one did not touch the agent, its task or the frameworks.
// FUZZ_SEED and FUZZ_RUNS replay or lengthen a run.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Type } from 'protobufjs';
import { protoRoot } from '../../proto/index.js';
import { root as agentRoot } from '../../agent/operator-http.js';
import { FuzzCluster, httpExchange, stableState, type HttpAnswer } from '../harness/fuzz-cluster.js';
import { applyMutations, encode, fuzzParameters, garbageBytes, junk, message, mutations } from '../harness/fuzz-arbitraries.js';

const MASTER_CALL = protoRoot.lookupType('mesos.v1.master.Call');
const AGENT_CALL = agentRoot.lookupType('mesos.v1.agent.Call');
const SCHEDULER_CALL = protoRoot.lookupType('mesos.v1.scheduler.Call');
/** The body limits of docs/configuration.md, by target. */
const LIMITS = { operator: 64 * 1024, agent: 64 * 1024, scheduler: 4 * 1024 * 1024, v0: 1024 * 1024 } as const;
type Target = keyof typeof LIMITS;
const V0_WRITES = ['/master/teardown', '/master/reserve', '/master/unreserve', '/master/weights', '/master/quota', '/master/maintenance/schedule', '/master/machine/down', '/master/machine/up'];
const MEDIA = ['application/json', 'application/x-protobuf', 'text/plain', 'application/json; charset=utf-8', 'application/recordio', ''];

const cluster = new FuzzCluster();
const seen = new Map<string, number>();

beforeAll(() => cluster.start([], 'cpus:1;mem:256;disk:64;ports:[32710-32719]'), 120_000);
afterAll(async () => {
  console.log(`fuzz-http answers: ${[...seen].sort().map(([k, n]) => `${k} ${n}`).join(', ')}`);
  await cluster.stop();
}, 60_000);

interface Request {
  readonly target: Target;
  readonly path: string;
  readonly method: string;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
  readonly oversized?: boolean;
}

const typeOf = (type: Type) => fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(...Object.keys(type.lookupEnum('Type').values)) },
  { weight: 1, arbitrary: fc.oneof(fc.string({ maxLength: 8 }), junk) },
);

/** A Call of `type` in JSON or protobuf (sometimes mutated), with the headers that say so (sometimes wrongly). */
function calls(type: Type, ids: readonly string[]): fc.Arbitrary<{ headers: Record<string, string>; body: Buffer }> {
  const json = fc.record({ call: message(type, 0, true, ids), type: typeOf(type) }).map(({ call, type: t }) => Buffer.from(JSON.stringify({ ...call, type: t })));
  const proto = fc.record({ call: message(type, 0, false, ids), type: fc.oneof(typeOf(type).filter((t) => typeof t === 'string' && /^[A-Z_]+$/.test(t)), fc.integer({ min: 60, max: 100_000 })), ms: fc.option(mutations, { nil: null }) })
    .map(({ call, type: t, ms }) => {
      const bytes = encode(type, { ...call, type: t });
      return ms ? applyMutations(bytes, ms) : bytes;
    });
  const headers = (media: string) => fc.record({ contentType: fc.oneof({ weight: 6, arbitrary: fc.constant(media) }, { weight: 1, arbitrary: fc.constantFrom(...MEDIA) }), accept: fc.constantFrom(media, '*/*', 'text/html', '') })
    .map(({ contentType, accept }) => ({ ...(contentType ? { 'Content-Type': contentType } : {}), ...(accept ? { Accept: accept } : {}) }));
  return fc.oneof(
    fc.record({ headers: headers('application/json'), body: json }),
    fc.record({ headers: headers('application/x-protobuf'), body: proto }),
    fc.record({ headers: headers('application/json'), body: garbageBytes }),
  );
}

function requests(): fc.Arbitrary<Request> {
  // Near misses of the real ids: a valid TEARDOWN of the bystander or MARK_AGENT_GONE of the agent would be obeyed.
  const ids = [`${cluster.agentId}x`, cluster.bystander.frameworkId.slice(0, -1), cluster.taskId, 'no-such-id'];
  const method = fc.oneof({ weight: 8, arbitrary: fc.constant('POST') }, { weight: 1, arbitrary: fc.constantFrom('GET', 'PUT', 'DELETE', 'PATCH') });
  const sandboxPaths = fc.constantFrom('/etc/passwd', '../../../../etc/passwd', `${cluster.agent.workDir}/../../../etc/passwd`, '/proc/self/environ', '', '.', '/', '%2e%2e/%2e%2e/etc/passwd');
  const readFile = fc.record({ path: sandboxPaths, list: fc.boolean(), offset: fc.integer({ min: -5, max: 1 << 30 }), length: fc.integer({ min: -5, max: 1 << 30 }) })
    .map(({ path, list, offset, length }) => ({
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: Buffer.from(JSON.stringify(list ? { type: 'LIST_FILES', list_files: { path } } : { type: 'READ_FILE', read_file: { path, offset, length } })),
    }));
  const recordIo = fc.record({ call: message(SCHEDULER_CALL, 0, false, ids), cut: fc.double({ min: 0, max: 1, noNaN: true }) }).map(({ call, cut }) => {
    const bytes = encode(SCHEDULER_CALL, { ...call, type: 'SUBSCRIBE' });
    const framed = Buffer.concat([Buffer.from(`${bytes.length}\n`), bytes]);
    return framed.subarray(0, Math.max(1, Math.floor(cut * framed.length)));
  });
  const oversized = fc.constantFrom<Target>('operator', 'agent', 'scheduler', 'v0').map((target): Request => ({
    target, path: target === 'v0' ? '/master/weights' : target === 'scheduler' ? '/api/v1/scheduler' : '/api/v1', method: target === 'v0' ? 'PUT' : 'POST',
    headers: { 'Content-Type': 'application/json' }, body: Buffer.alloc(LIMITS[target] + 1, 0x20), oversized: true,
  }));
  return fc.oneof(
    { weight: 6, arbitrary: fc.tuple(method, calls(MASTER_CALL, ids)).map(([m, c]): Request => ({ target: 'operator', path: '/api/v1', method: m, ...c })) },
    { weight: 3, arbitrary: fc.tuple(method, fc.oneof(calls(AGENT_CALL, ids), readFile)).map(([m, c]): Request => ({ target: 'agent', path: '/api/v1', method: m, ...c })) },
    {
      weight: 2,
      arbitrary: fc.record({ body: fc.oneof(recordIo, garbageBytes), contentType: fc.constantFrom(...MEDIA) })
        .map(({ body, contentType }): Request => ({ target: 'scheduler', path: '/api/v1/scheduler', method: 'POST', headers: contentType ? { 'Content-Type': contentType, Accept: 'application/x-protobuf' } : {}, body })),
    },
    {
      weight: 2,
      arbitrary: fc.record({ path: fc.constantFrom(...V0_WRITES), method, body: fc.oneof(fc.constantFrom(...ids).map((id) => `frameworkId=${id}`), fc.jsonValue().map((v) => JSON.stringify(v)), fc.string({ maxLength: 40 })), contentType: fc.constantFrom('application/x-www-form-urlencoded', 'application/json', '') })
        .map(({ path, method: m, body, contentType }): Request => ({ target: 'v0', path, method: m, headers: contentType ? { 'Content-Type': contentType } : {}, body: Buffer.from(body) })),
    },
    {
      weight: 1,
      arbitrary: fc.integer({ min: 500, max: 2000 }).map((n): Request => ({
        target: 'operator', path: '/api/v1', method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: Buffer.from(JSON.stringify({ type: 'UPDATE_MAINTENANCE_SCHEDULE', update_maintenance_schedule: { schedule: { windows: [{ machine_ids: Array.from({ length: n }, (_, i) => ({ hostname: `h${i}.invalid` })), unavailability: { start: { nanoseconds: 1 } } }] } } })),
      })),
    },
    { weight: 1, arbitrary: oversized },
  );
}

async function send(r: Request): Promise<HttpAnswer> {
  const address = r.target === 'agent' ? cluster.agent.httpAddress : cluster.master.httpAddress;
  return httpExchange(address, r.path, r.method, r.headers, r.body);
}

describe('HTTP APIs under fuzzed requests', () => {
  it('answer every request with a 2xx or a 4xx, keep serving, and a refused request changes nothing', async () => {
    await fc.assert(
      fc.asyncProperty(requests(), async (r) => {
        const before = await cluster.settledState();
        const answer = await send(r);
        const key = `${r.target} ${answer.status}`;
        seen.set(key, (seen.get(key) ?? 0) + 1);
        const what = `${r.method} ${r.target} ${r.path} (${JSON.stringify(r.headers)}, ${r.body.length} bytes: ${r.body.subarray(0, 80).toString('utf8')}) answered ${answer.status} ${answer.text.slice(0, 200)}`;
        // 501: a call of Mesos's API that mesos-ts does not serve (docs/operator.md), a deliberate refusal too.
        expect((answer.status >= 200 && answer.status < 500) || answer.status === 501, what).toBe(true);
        if (r.oversized) expect(answer, what).toEqual({ status: 413, text: expect.stringMatching(/limit|larger/) });
        if (answer.status === 200) expect(answer.text, `${what}: a file outside the sandboxes`).not.toMatch(/root:x:0:0|PATH=/);
        await cluster.assertServing();
        if (answer.status < 300 && r.target !== 'agent') await cluster.expectState(cluster.corePart, cluster.corePart(before), `${what}: accepted, and changed the agent, its task or a framework`);
        else await cluster.expectState(stableState, before, `${what}: refused, yet the state changed`);
      }),
      { ...fuzzParameters('HTTP APIs', 160_104, 80), endOnFailure: true },
    );
  }, 300_000);
});

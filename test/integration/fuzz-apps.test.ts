// Fuzzing the apps REST API (Marathon's /v2/apps and friends) of a real
// `mesos-ts apps` process, with ZooKeeper and a master as processes and no
// agent (nothing launches, so the state moves only by the calls themselves,
// and no fixed port is used): app definitions drawn valid and then mutated
// (wrong JSON types, fields left out, unknown fields, huge arrays, deep
// nesting; test/harness/fuzz-app-definitions.ts), text that is not JSON or
// is cut short, bodies over the 1 MB limit, random ids in the paths, every
// method. Each answer must be a 2xx or a 4xx (413 for an oversized body),
// never a 5xx or a dropped connection; after each batch the service serves,
// and a refused call left its apps, deployments and queue as they were.
// FUZZ_SEED and FUZZ_RUNS replay or lengthen a run.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { startAppsCluster, type AppsCluster, type AppsProc } from '../harness/apps-cluster.js';
import { httpExchange, type HttpAnswer } from '../harness/fuzz-cluster.js';
import { fuzzParameters } from '../harness/fuzz-arbitraries.js';
import { appBody, appId } from '../harness/fuzz-app-definitions.js';

const MAX_BODY = 1024 * 1024;
let cluster: AppsCluster;
let apps: AppsProc;
const seen = new Map<string, number>();

beforeAll(async () => {
  cluster = await startAppsCluster([]);
  await cluster.startApps('apps-1');
  apps = await cluster.leader();
}, 120_000);
afterAll(async () => {
  console.log(`fuzz-apps answers: ${[...seen].sort().map(([k, n]) => `${k} ${n}`).join(', ')}`);
  await cluster?.stop();
}, 60_000);

const address = () => apps.url.replace('http://', '');

interface Request {
  readonly method: string;
  readonly path: string;
  readonly body: string | null;
  readonly oversized?: boolean;
}

const encoded = (id: string) => id.split('/').map((s) => encodeURIComponent(s)).join('/');
const idPath = appId.map((id) => (id.startsWith('/') ? encoded(id) : `/${encoded(id)}`));
const method = fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE');
const query = fc.constantFrom('', '?force=true', '?partialUpdate=false', '?force=true&scale=true', '?embed=apps.tasks&id=/fuzz');

function requests(): fc.Arbitrary<Request> {
  return fc.oneof(
    { weight: 6, arbitrary: fc.record({ body: appBody, q: query }).map(({ body, q }) => ({ method: 'POST', path: `/v2/apps${q}`, body })) },
    { weight: 4, arbitrary: fc.record({ m: fc.constantFrom('PUT', 'PATCH'), id: idPath, body: appBody, q: query }).map(({ m, id, body, q }) => ({ method: m, path: `/v2/apps${id}${q}`, body })) },
    {
      weight: 3, arbitrary: fc.record({
        m: method, id: idPath, q: query, body: fc.option(appBody, { nil: null }),
        tail: fc.constantFrom('', '/restart', '/tasks', '/versions', '/versions/2026-01-01T00:00:00.000Z', '/tasks/fuzz_web.0', '/versions/%zz'),
      }).map(({ m, id, q, body, tail }) => ({ method: m, path: `/v2/apps${id}${tail}${q}`, body: m === 'GET' || m === 'DELETE' ? null : body })),
    },
    {
      weight: 2, arbitrary: fc.record({ m: method, id: fc.oneof(fc.uuid(), fc.string({ maxLength: 10 }).map(encodeURIComponent)), tail: fc.constantFrom('/v2/deployments/', '/v2/queue/fuzz/web/delay?', '/v2/autoscale/', '/v2/tasks?', '/v2/apps?') })
        .map(({ m, id, tail }) => ({ method: m, path: `${tail}${id}`, body: null })),
    },
    // The body is made when sent: a counterexample printed with a megabyte in it would be unreadable.
    { weight: 1, arbitrary: fc.constantFrom('POST', 'PUT').map((m) => ({ method: m, path: m === 'POST' ? '/v2/apps' : '/v2/apps/fuzz/web', body: null, oversized: true })) },
  );
}

async function exchange(r: Request): Promise<HttpAnswer> {
  const body = r.oversized ? JSON.stringify({ id: '/fuzz/web', cmd: 'x'.repeat(MAX_BODY) }) : r.body;
  const headers: Record<string, string> = body === null ? {} : { 'Content-Type': 'application/json' };
  return httpExchange(address(), r.path, r.method, headers, Buffer.from(body ?? ''));
}

/** Apps, deployments and queue, as the API shows them (no agent: nothing in them moves by itself). */
async function state(): Promise<unknown> {
  const read = async (path: string) => {
    const answer = await httpExchange(address(), path, 'GET', {}, Buffer.alloc(0));
    expect(answer.status, `GET ${path}: ${answer.text.slice(0, 200)}`).toBe(200);
    return JSON.parse(answer.text) as unknown;
  };
  return { apps: await read('/v2/apps'), deployments: await read('/v2/deployments'), queue: await read('/v2/queue') };
}

async function assertServing(): Promise<void> {
  const ping = await httpExchange(address(), '/ping', 'GET', {}, Buffer.alloc(0));
  expect(ping.status, 'GET /ping').toBe(200);
  expect(apps.alive(), 'the apps process is alive').toBe(true);
}

describe('apps REST API under fuzzed calls', () => {
  it('answers every call with a 2xx or a 4xx, keeps serving, and a refused call changes nothing', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(requests(), { minLength: 1, maxLength: 4 }), async (batch) => {
        for (const r of batch) {
          const before = await state();
          const answer = await exchange(r);
          const what = `${r.method} ${r.path.slice(0, 120)} (${r.oversized ? 'over 1 MB' : `${r.body?.length ?? 0} bytes`}) answered ${answer.status} ${answer.text.slice(0, 300)}`;
          seen.set(String(answer.status), (seen.get(String(answer.status)) ?? 0) + 1);
          expect(answer.status >= 200 && answer.status < 500, what).toBe(true);
          if (r.oversized) expect(answer.status, what).toBe(413);
          if (answer.status >= 400) expect(await state(), `${what}: refused, yet the state changed`).toEqual(before);
        }
        await assertServing();
      }),
      { ...fuzzParameters('apps REST API', 190_101, 100), endOnFailure: true },
    );
  }, 600_000);
});

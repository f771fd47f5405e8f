// fast-check arbitraries for the apps REST API (framework/apps/): app
// definitions with every field Marathon knows, drawn valid, then mutated
// (a field of the wrong JSON type, one left out, an unknown one, a huge
// array, deep nesting), and the JSON text itself mangled (truncated, not
// JSON at all). Shared by the pure property on validateApp and the fuzzing
// of a running `mesos-ts apps` (test/integration/fuzz-apps.test.ts).
import fc from 'fast-check';
import { junk } from './fuzz-arbitraries.js';

type Json = Record<string, unknown>;

const segment = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,6}[a-z0-9])?$/);
/** Valid app ids (a few, so that calls meet apps that exist), and ids that are not. */
export const appId = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('/fuzz/web', '/fuzz/db', 'fuzz/api', '/fuzz/web/../db') },
  { weight: 2, arbitrary: fc.array(segment, { minLength: 1, maxLength: 3 }).map((s) => `/fuzz/${s.join('/')}`) },
  { weight: 1, arbitrary: fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('', '/', '..', '/UPPER', '/a_b', '/%2e%2e', '/x'.repeat(300), '/é')) },
);

const healthCheck = fc.oneof(
  fc.record({ protocol: fc.constant('COMMAND'), command: fc.record({ value: fc.constantFrom('true', 'false') }), gracePeriodSeconds: fc.nat(60), intervalSeconds: fc.integer({ min: 1, max: 60 }), timeoutSeconds: fc.integer({ min: 1, max: 20 }), maxConsecutiveFailures: fc.nat(5) }),
  fc.record({ protocol: fc.constantFrom('MESOS_HTTP', 'HTTP', 'TCP', 'MESOS_TCP'), path: fc.constant('/'), portIndex: fc.nat(2), gracePeriodSeconds: fc.nat(60) }),
);

const fields: Record<string, fc.Arbitrary<unknown>> = {
  cmd: fc.constantFrom('sleep 1000', 'echo hi; sleep 60'),
  args: fc.array(fc.string({ maxLength: 6 }), { maxLength: 3 }),
  cpus: fc.constantFrom(0.01, 0.1, 0.5, 1),
  mem: fc.constantFrom(16, 32, 128),
  disk: fc.constantFrom(0, 10),
  instances: fc.nat(3),
  env: fc.dictionary(fc.stringMatching(/^[A-Z][A-Z0-9_]{0,6}$/), fc.string({ maxLength: 6 }), { maxKeys: 3 }),
  labels: fc.dictionary(fc.string({ minLength: 1, maxLength: 6 }), fc.string({ maxLength: 6 }), { maxKeys: 3 }),
  user: fc.constantFrom('root', 'nobody'),
  constraints: fc.array(fc.tuple(fc.constantFrom('hostname', 'rack'), fc.constantFrom('UNIQUE', 'CLUSTER', 'GROUP_BY', 'LIKE', 'UNLIKE', 'MAX_PER'), fc.constantFrom('a', '2', '.*')).map((t) => (t[1] === 'UNIQUE' ? t.slice(0, 2) : t)), { maxLength: 2 }),
  portDefinitions: fc.array(fc.record({ port: fc.constantFrom(0, 0, 31000), protocol: fc.constantFrom('tcp', 'udp'), name: fc.constantFrom('http', 'admin') }, { requiredKeys: ['port'] }), { maxLength: 2 }),
  requirePorts: fc.boolean(),
  healthChecks: fc.array(healthCheck, { maxLength: 2 }),
  readinessChecks: fc.array(fc.record({ name: fc.constant('ready'), protocol: fc.constant('HTTP'), path: fc.constant('/'), portName: fc.constant('http'), intervalSeconds: fc.integer({ min: 1, max: 30 }) }), { maxLength: 1 }),
  upgradeStrategy: fc.record({ minimumHealthCapacity: fc.constantFrom(0, 0.5, 1), maximumOverCapacity: fc.constantFrom(0, 0.5, 1) }),
  backoffSeconds: fc.constantFrom(1, 5),
  backoffFactor: fc.constantFrom(1, 1.15, 2),
  maxLaunchDelaySeconds: fc.constantFrom(60, 300),
  killSelection: fc.constantFrom('YOUNGEST_FIRST', 'OLDEST_FIRST'),
  taskKillGracePeriodSeconds: fc.nat(30),
  unreachableStrategy: fc.oneof(fc.constant('disabled'), fc.record({ inactiveAfterSeconds: fc.nat(600), expungeAfterSeconds: fc.nat(6000) })),
  dependencies: fc.array(appId, { maxLength: 2 }),
  container: fc.record({ type: fc.constant('DOCKER'), docker: fc.record({ image: fc.constantFrom('mesos-ts/busybox:latest', 'busybox'), network: fc.constant('HOST') }, { requiredKeys: ['image'] }) }),
  autoscale: fc.record({ minInstances: fc.nat(3), maxInstances: fc.integer({ min: 1, max: 6 }), metric: fc.constantFrom('cpu', 'requestsPerSecond'), target: fc.constantFrom(0.5, 10) }),
};
const FIELD_NAMES = Object.keys(fields);

/** A valid-looking app definition: an id, a command and some of the other fields. */
export const appDefinition: fc.Arbitrary<Json> = fc.record({
  id: appId,
  cmd: fields.cmd!,
  rest: fc.subarray(FIELD_NAMES.filter((f) => f !== 'cmd'), { maxLength: 6 }).chain((names) => fc.tuple(...names.map((n) => fields[n]!.map((v) => [n, v] as const)))),
}).map(({ id, cmd, rest }) => ({ id, cmd, ...Object.fromEntries(rest) }));

/** A value nested `depth` arrays deep, kept as this marker until used: fast-check's own printing and JSON.stringify would overflow on it. */
class Deep {
  constructor(readonly depth: number) {}
}

/** A huge value: thousands of array entries or keys, or deep nesting (the body stays under the API's 1 MB limit). */
const huge = fc.record({ n: fc.integer({ min: 1000, max: 20_000 }), kind: fc.constantFrom('array', 'object', 'deep') }).map(({ n, kind }) => {
  if (kind === 'array') return Array.from({ length: n }, (_, i) => ['hostname', 'LIKE', `h${i}`]);
  if (kind === 'object') return Object.fromEntries(Array.from({ length: n }, (_, i) => [`K${i}`, 'v']));
  return new Deep(n);
});

function nested(depth: number): unknown {
  let v: unknown = 'x';
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}

/** The app as a value (a Deep field made the arrays it stands for). */
function materialized(app: Json): Json {
  return Object.fromEntries(Object.entries(app).map(([k, v]) => [k, v instanceof Deep ? nested(v.depth) : v]));
}

/** The app as JSON text (a Deep field written as that many brackets). */
function jsonText(value: unknown): string {
  const text = JSON.stringify(value, (_, v: unknown) => (v instanceof Deep ? `\u0000deep${v.depth}` : v));
  return text.replace(/"\\u0000deep(\d+)"/g, (_, n: string) => `${'['.repeat(Number(n))}"x"${']'.repeat(Number(n))}`);
}

type Mutation = { kind: 'set'; field: string; value: unknown } | { kind: 'drop'; field: string } | { kind: 'huge'; field: string; value: unknown };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('set' as const), field: fc.oneof(fc.constantFrom('id', ...FIELD_NAMES), fc.string({ maxLength: 8 })), value: fc.oneof(junk, fc.jsonValue({ maxDepth: 2 })) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('drop' as const), field: fc.constantFrom('id', 'cmd') }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('huge' as const), field: fc.constantFrom('constraints', 'env', 'labels', 'portDefinitions', 'healthChecks', 'args', 'dependencies', 'unknownField'), value: huge }) },
);

function mutate(app: Json, m: Mutation): Json {
  const out = { ...app };
  if (m.kind === 'drop') delete out[m.field];
  else out[m.field] = m.value;
  return out;
}

const mutatedRaw: fc.Arbitrary<Json> = fc.tuple(appDefinition, fc.array(mutation, { maxLength: 3 })).map(([app, ms]) => ms.reduce(mutate, app));

/** An app definition, mostly mutated. */
export const mutatedApp: fc.Arbitrary<Json> = mutatedRaw.map(materialized);

/** A request body: an app (or a list of them, or any JSON) as JSON text, sometimes truncated or replaced by text that is not JSON. */
export const appBody: fc.Arbitrary<string> = fc.oneof(
  { weight: 8, arbitrary: mutatedRaw.map(jsonText) },
  { weight: 1, arbitrary: fc.oneof(fc.array(mutatedRaw, { maxLength: 2 }), fc.jsonValue({ maxDepth: 3 })).map(jsonText) },
  { weight: 1, arbitrary: fc.tuple(mutatedRaw, fc.double({ min: 0, max: 1, noNaN: true })).map(([a, at]) => jsonText(a).slice(0, Math.floor(at * jsonText(a).length))) },
  { weight: 1, arbitrary: fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('', ' ', 'null', '{', '[]', '{"id": }', '\u0000', '{"id":"/a","cmd":"x"}{}')) },
);

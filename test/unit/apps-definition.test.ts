// App definitions: Marathon's defaults, id normalization, and every invalid
// field answered in Marathon's 422 detail shape (path + errors).
import fc from 'fast-check';
import { fuzzParameters } from '../harness/fuzz-arbitraries.js';
import { appDefinition, mutatedApp } from '../harness/fuzz-app-definitions.js';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { normalizeAppId, onlyScaled, validateApp, type AppDefinition } from '../../framework/apps/app-definition.js';

const V = '2026-01-01T00:00:00.000Z';
const valid = (json: Record<string, unknown>): AppDefinition => {
  const r = validateApp(json, { version: V });
  if (!r.ok) throw new Error(JSON.stringify(r.details));
  return r.app;
};
const details = (json: unknown): { path: string; errors: string[] }[] => {
  const r = validateApp(json, { version: V });
  if (r.ok) throw new Error('expected invalid');
  return r.details;
};

describe('app definition', () => {
  it("fills Marathon's defaults", () => {
    const app = valid({ id: 'web', cmd: 'sleep 100' });
    expect(app).toMatchObject({
      id: '/web', cpus: 1, mem: 128, disk: 0, instances: 1, env: {}, labels: {}, constraints: [], requirePorts: false,
      portDefinitions: [{ port: 0, protocol: 'tcp' }], healthChecks: [], upgradeStrategy: { minimumHealthCapacity: 1, maximumOverCapacity: 1 },
      backoffSeconds: 1, backoffFactor: 1.15, maxLaunchDelaySeconds: 3600, killSelection: 'YOUNGEST_FIRST', version: V,
      unreachableStrategy: { inactiveAfterSeconds: 300, expungeAfterSeconds: 600 }, dependencies: [], readinessChecks: [],
      versionInfo: { lastScalingAt: V, lastConfigChangeAt: V },
    });
  });

  it.each([
    ['web', '/web'], ['/prod/web/', '/prod/web'], ['/prod/./web', '/prod/web'], ['/prod/x/../web', '/prod/web'], ['a.b-c', '/a.b-c'],
  ])('normalizes the id %s to %s', (raw, want) => expect(normalizeAppId(raw)).toBe(want));

  it.each(['/Prod', '/a_b', '/', '', '/-a', '/a-', '/a b'])('refuses the id %j', (raw) => expect(normalizeAppId(raw)).toBeNull());

  it('fills health check defaults and maps portIndex', () => {
    const app = valid({ id: '/h', cmd: 'x', healthChecks: [{ protocol: 'MESOS_HTTP' }] });
    expect(app.healthChecks[0]).toEqual({
      protocol: 'MESOS_HTTP', path: '/', portIndex: 0, gracePeriodSeconds: 300, intervalSeconds: 60, timeoutSeconds: 20, maxConsecutiveFailures: 3, delaySeconds: 15,
    });
  });

  it('takes a Docker container with host networking', () => {
    const app = valid({ id: '/d', container: { type: 'DOCKER', docker: { image: 'mesos-ts/busybox:latest', network: 'HOST' } }, networks: [{ mode: 'host' }] });
    expect(app.container).toEqual({ type: 'DOCKER', docker: { image: 'mesos-ts/busybox:latest', forcePullImage: false, network: 'HOST' } });
  });

  const cases: [string, Record<string, unknown>, string, RegExp][] = [
    ['cpus below 0.001', { cpus: 0 }, '/cpus', /expected 0.001 or more/],
    ['cpus not a number', { cpus: 'one' }, '/cpus', /expected a number/],
    ['negative mem', { mem: -1 }, '/mem', /expected 0 or more/],
    ['negative disk', { disk: -5 }, '/disk', /0 or more/],
    ['fractional instances', { instances: 1.5 }, '/instances', /whole number/],
    ['negative instances', { instances: -1 }, '/instances', /0 or more/],
    ['unknown field', { foo: 1 }, '/foo', /unknown field/],
    ['unsupported Marathon field', { fetch: [] }, '/fetch', /does not support/],
    ['env not strings', { env: { A: 1 } }, '/env/A', /expected a string/],
    ['bad env name', { env: { '1A': 'x' } }, '/env/1A', /not a valid environment variable name/],
    ['labels not an object', { labels: ['a'] }, '/labels', /expected an object/],
    ['empty user', { user: '' }, '/user', /non-empty/],
    ['unknown constraint operator', { constraints: [['hostname', 'NEAR']] }, '/constraints(0)', /unknown operator/],
    ['UNIQUE with a value', { constraints: [['hostname', 'UNIQUE', 'x']] }, '/constraints(0)', /takes no value/],
    ['MAX_PER without a number', { constraints: [['hostname', 'MAX_PER', 'two']] }, '/constraints(0)', /whole number/],
    ['LIKE with a bad regex', { constraints: [['rack', 'LIKE', '(']] }, '/constraints(0)', /not a valid regular expression/],
    ['constraint not an array', { constraints: [{ field: 'hostname' }] }, '/constraints(0)', /expected \[field, operator/],
    ['port out of range', { portDefinitions: [{ port: 70000 }] }, '/portDefinitions(0)/port', /0..65535/],
    ['requirePorts with port 0', { requirePorts: true, portDefinitions: [{ port: 0 }] }, '/portDefinitions(0)/port', /requirePorts/],
    ['bad protocol', { portDefinitions: [{ port: 0, protocol: 'sctp' }] }, '/portDefinitions(0)/protocol', /tcp, udp/],
    ['duplicate port names', { portDefinitions: [{ name: 'a' }, { name: 'a' }] }, '/portDefinitions(1)/name', /used by another/],
    ['health protocol', { healthChecks: [{ protocol: 'GRPC' }] }, '/healthChecks(0)/protocol', /expected one of/],
    ['health portIndex beyond the ports', { healthChecks: [{ protocol: 'MESOS_TCP', portIndex: 1 }] }, '/healthChecks(0)/portIndex', /has 1 port/],
    ['COMMAND check without command', { healthChecks: [{ protocol: 'COMMAND' }] }, '/healthChecks(0)/command', /needs command/],
    ['negative grace period', { healthChecks: [{ protocol: 'MESOS_TCP', gracePeriodSeconds: -1 }] }, '/healthChecks(0)/gracePeriodSeconds', /0 or more/],
    ['two health checks', { healthChecks: [{ protocol: 'MESOS_TCP' }, { protocol: 'MESOS_TCP' }] }, '/healthChecks', /at most one/],
    ['minimumHealthCapacity above 1', { upgradeStrategy: { minimumHealthCapacity: 1.5 } }, '/upgradeStrategy/minimumHealthCapacity', /1 or less/],
    ['no room to upgrade', { upgradeStrategy: { minimumHealthCapacity: 1, maximumOverCapacity: 0 } }, '/upgradeStrategy', /no room/],
    ['backoffFactor below 1', { backoffFactor: 0.5 }, '/backoffFactor', /1 or more/],
    ['negative backoffSeconds', { backoffSeconds: -1 }, '/backoffSeconds', /0 or more/],
    ['killSelection', { killSelection: 'RANDOM' }, '/killSelection', /YOUNGEST_FIRST or OLDEST_FIRST/],
    ['bridge networking', { container: { type: 'DOCKER', docker: { image: 'x', network: 'BRIDGE' } } }, '/container/docker/network', /only HOST/],
    ['MESOS container', { container: { type: 'MESOS', docker: { image: 'x' } } }, '/container/type', /only DOCKER/],
    ['docker without image', { container: { type: 'DOCKER', docker: {} } }, '/container/docker/image', /non-empty string/],
    ['container networks', { networks: [{ mode: 'container' }] }, '/networks', /only host networking/],
    ['cmd and args', { args: ['sleep', '1'] }, '/', /not both/],
    ['bad id', { id: '/Web' }, '/id', /lower-case/],
    ['unreachableStrategy word', { unreachableStrategy: 'never' }, '/unreachableStrategy', /expected "disabled"/],
    ['inactive after expunge', { unreachableStrategy: { inactiveAfterSeconds: 10, expungeAfterSeconds: 5 } }, '/unreachableStrategy', /at most expungeAfterSeconds/],
    ['readiness check on an unnamed port', { readinessChecks: [{ portName: 'http' }] }, '/readinessChecks(0)/portName', /no port definition is named "http"/],
    ['HTTPS readiness check', { portDefinitions: [{ name: 'http-api' }], readinessChecks: [{ protocol: 'HTTPS' }] }, '/readinessChecks(0)/protocol', /only HTTP/],
    ['readiness timeout over interval', { portDefinitions: [{ name: 'http-api' }], readinessChecks: [{ intervalSeconds: 5, timeoutSeconds: 10 }] }, '/readinessChecks(0)/timeoutSeconds', /at most intervalSeconds/],
    ['a dependency on itself', { dependencies: ['/web'] }, '/dependencies(0)', /itself/],
    ['a dependency twice', { dependencies: ['/db', 'db'] }, '/dependencies(1)', /listed twice/],
    ['a dependency that is no id', { dependencies: ['DB'] }, '/dependencies(0)', /expected an app id/],
    ['inactiveAfterSeconds 0', { unreachableStrategy: { inactiveAfterSeconds: 0 } }, '/unreachableStrategy/inactiveAfterSeconds', /1 or more/],
  ];
  it.each(cases)('refuses %s', (_what, patch, path, message) => {
    const got = details({ id: '/web', cmd: 'sleep 1', ...patch });
    const entry = got.find((d) => d.path === path);
    expect(entry, JSON.stringify(got)).toBeDefined();
    expect(entry!.errors.join(' ')).toMatch(message);
  });

  it('resolves dependencies relative to the app\'s group', () => {
    expect(valid({ id: '/prod/web', cmd: 'x', dependencies: ['db', '../shared/cache', '/prod/queue'] }).dependencies).toEqual(['/prod/db', '/shared/cache', '/prod/queue']);
  });

  it('refuses a missing id and a missing command in one answer', () => {
    expect(details({}).map((d) => d.path)).toEqual(['/id', '/']);
  });

  it('refuses what is not an object', () => {
    expect(details([1])).toEqual([{ path: '/', errors: ['expected a JSON object, got [1]'] }]);
  });

  it('tells a scale from a configuration change', () => {
    const a = valid({ id: '/s', cmd: 'sleep 1', instances: 2 });
    expect(onlyScaled(a, valid({ id: '/s', cmd: 'sleep 1', instances: 5 }))).toBe(true);
    expect(onlyScaled(a, valid({ id: '/s', cmd: 'sleep 2', instances: 2 }))).toBe(false);
  });

  it.each(['web.json', 'worker.json'])('accepts the example %s', (name) => {
    const r = validateApp(JSON.parse(readFileSync(`examples/apps/${name}`, 'utf8')), { version: V });
    expect(r.ok ? 'ok' : JSON.stringify(r.details)).toBe('ok');
  });
});

describe('validateApp under fuzzed definitions', () => {
  it('answers every definition, valid or mutated, with an app or field errors, never a throw', () => {
    let valid = 0;
    fc.assert(
      fc.property(fc.oneof(appDefinition, mutatedApp, fc.jsonValue({ maxDepth: 3 })), (input) => {
        const result = validateApp(input, { version: '2026-01-01T00:00:00.000Z' });
        if (result.ok) valid++;
        else expect(result.details.length).toBeGreaterThan(0);
      }),
      fuzzParameters('validateApp', 180_101, 500),
    );
    expect(valid).toBeGreaterThan(0);
  });
});

describe('app definitions with huge or deeply nested values', () => {
  const nested = (depth: number): unknown => {
    let v: unknown = 'x';
    for (let i = 0; i < depth; i++) v = [v];
    return v;
  };

  it.each(['cmd', 'cpus', 'env', 'constraints', 'healthChecks', 'container', 'autoscale', 'upgradeStrategy'])('answers %s nested 20000 deep with a field error showing the value cut short', (field) => {
    const r = validateApp({ id: '/a', cmd: 'x', [field]: nested(20_000) }, { version: V });
    expect(r.ok).toBe(false);
    const errors = r.ok ? [] : r.details.flatMap((d) => d.errors);
    expect(errors.length).toBeGreaterThan(0);
    expect(Math.max(...errors.map((e) => e.length))).toBeLessThan(400);
  });

  it('answers 20000 bad constraints with one entry per constraint, each message short', () => {
    const r = validateApp({ id: '/a', cmd: 'x', constraints: Array.from({ length: 20_000 }, (_, i) => [{ deep: nested(50) }, i]) }, { version: V });
    expect(r.ok).toBe(false);
    const details = r.ok ? [] : r.details;
    expect(details).toHaveLength(20_000);
    expect(details[7]).toEqual({ path: '/constraints(7)', errors: [expect.stringMatching(/^expected \[field, operator\] or \[field, operator, value\] of strings, got \[\{"deep":\[\[\[…\]\]\]\},7\]$/)] });
  });
});

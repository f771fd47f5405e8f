// TaskInfo.health_check at launch (checkTask): impossible values become
// TASK_ERROR with a message naming the field; the HTTP and TCP probes
// against real sockets on loopback.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { checkTask } from '../../agent/task-spec.js';
import { healthProbe, type HealthCheckInfo } from '../../agent/health-check.js';
import type { ContainerDriver } from '../../agent/driver/driver.js';
import { Resources } from '../../common/resources.js';
import type { FrameworkInfoOut, TaskInfoOut } from '../../proto/index.js';

const framework = { id: { value: 'fw1' }, name: 'test', capabilities: [] } as unknown as FrameworkInfoOut;

function task(healthCheck: Record<string, unknown>, resources = 'cpus:0.5;mem:64;ports:[31000-31001,31005-31005]'): TaskInfoOut {
  return {
    name: 't', task_id: { value: 't1' }, resources: Resources.parse(resources).toProto(),
    command: { value: 'sleep 60', shell: true, arguments: [], environment: null, uris: [], user: '' },
    container: null, kill_policy: null, health_check: healthCheck,
  } as unknown as TaskInfoOut;
}

const problem = (healthCheck: Record<string, unknown>, resources?: string) => {
  const r = checkTask(framework, task(healthCheck, resources));
  return r.ok ? null : r.message;
};

const http = (over: Record<string, unknown> = {}) => ({ type: 'HTTP', http: { port: 31000, path: '/health', scheme: '' }, ...over });
const shell = (value: string) => ({ shell: true, value, arguments: [], environment: null, uris: [] });

describe('checkTask: health_check', () => {
  it.each([
    ['HTTP on one of the task ports', http()],
    ['HTTP with scheme http and no path', http({ http: { port: 31005, scheme: 'http', path: '' } })],
    ['TCP', { type: 'TCP', tcp: { port: 31001 } }],
    ['COMMAND', { type: 'COMMAND', command: shell('test -f /ready') }],
    ['zero seconds everywhere (Mesos: timeout 0 is no timeout)', { ...http(), delay_seconds: 0, interval_seconds: 0, timeout_seconds: 0, grace_period_seconds: 0 }],
    ['fractional seconds', { ...http(), delay_seconds: 0.2, interval_seconds: 0.3, timeout_seconds: 0.5, consecutive_failures: 1 }],
  ])('accepts %s', (_what, check) => {
    expect(problem(check)).toBeNull();
  });

  it.each([
    ['a negative delay', { ...http(), delay_seconds: -1 }, 'TaskInfo.health_check.delay_seconds must be a non-negative number of seconds, got -1'],
    ['a NaN interval', { ...http(), interval_seconds: NaN }, 'TaskInfo.health_check.interval_seconds must be a non-negative number of seconds, got NaN'],
    ['a negative timeout', { ...http(), timeout_seconds: -0.5 }, 'TaskInfo.health_check.timeout_seconds must be a non-negative number of seconds, got -0.5'],
    ['an infinite grace period', { ...http(), grace_period_seconds: Infinity }, 'TaskInfo.health_check.grace_period_seconds must be a non-negative'],
    ['consecutive_failures 0', { ...http(), consecutive_failures: 0 }, 'TaskInfo.health_check.consecutive_failures must be an integer >= 1, got 0'],
    ['no type', { http: { port: 31000 } }, 'TaskInfo.health_check.type must be HTTP, TCP or COMMAND, got none'],
    ['type UNKNOWN', { type: 'UNKNOWN' }, 'TaskInfo.health_check.type must be HTTP, TCP or COMMAND, got UNKNOWN'],
    ['HTTP without http', { type: 'HTTP' }, 'TaskInfo.health_check.http is required for an HTTP health check'],
    ['HTTP without a port', http({ http: { port: 0, path: '/' } }), 'TaskInfo.health_check.http.port is required'],
    ['HTTP on a port the task does not hold', http({ http: { port: 31002, path: '/' } }), "TaskInfo.health_check.http.port 31002 is not one of the task's ports (31000-31001,31005)"],
    ['HTTPS', http({ http: { port: 31000, scheme: 'https' } }), "TaskInfo.health_check.http.scheme must be 'http' (this agent does not check https), got 'https'"],
    ['a path without a leading slash', http({ http: { port: 31000, path: 'health' } }), "TaskInfo.health_check.http.path must start with '/', got 'health'"],
    ['TCP without tcp', { type: 'TCP' }, 'TaskInfo.health_check.tcp is required for a TCP health check'],
    ['TCP without a port', { type: 'TCP', tcp: { port: 0 } }, 'TaskInfo.health_check.tcp.port is required'],
    ['COMMAND without a command', { type: 'COMMAND' }, 'TaskInfo.health_check.command.value is required for a COMMAND health check'],
    ['COMMAND with an empty value', { type: 'COMMAND', command: shell('') }, 'TaskInfo.health_check.command.value is required'],
    [
      'COMMAND with a secret',
      { type: 'COMMAND', command: { ...shell('true'), environment: { variables: [{ name: 'K', type: 'SECRET', value: '' }] } } },
      "TaskInfo.health_check.command.environment variable 'K' is a SECRET",
    ],
  ])('refuses %s', (_what, check, message) => {
    expect(problem(check)).toContain(message);
  });

  it('names "none" when the task holds no ports at all', () => {
    expect(problem({ type: 'TCP', tcp: { port: 8080 } }, 'cpus:0.5;mem:64')).toBe("TaskInfo.health_check.tcp.port 8080 is not one of the task's ports (none)");
  });
});

describe('HTTP and TCP probes on loopback', () => {
  let server: Server;
  let port = 0;
  let closedPort = 0;
  const noDriver = { driver: {} as ContainerDriver, containerId: '' };
  const probe = (check: Record<string, unknown>) => healthProbe(check as unknown as HealthCheckInfo, noDriver)(new AbortController().signal);

  beforeAll(async () => {
    server = createServer((req, res) => {
      const status = Number(req.url?.slice(1)) || 200;
      res.writeHead(status, status === 302 ? { location: '/elsewhere' } : {}).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    const closed = createTcpServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    closedPort = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve)); // nothing listens there any more
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it('passes an HTTP check on 200 to 399 and fails it otherwise, naming the status', async () => {
    expect(await probe({ type: 'HTTP', http: { port, path: '/' } })).toEqual({ healthy: true });
    expect(await probe({ type: 'HTTP', http: { port, path: '/302' } })).toEqual({ healthy: true });
    expect(await probe({ type: 'HTTP', http: { port, path: '/399' } })).toEqual({ healthy: true });
    expect(await probe({ type: 'HTTP', http: { port, path: '/503' } })).toEqual({ healthy: false, failure: `GET http://127.0.0.1:${port}/503 answered 503` });
    expect(await probe({ type: 'HTTP', http: { port, path: '/199' } })).toMatchObject({ healthy: false });
  });

  it('fails an HTTP check when nothing listens', async () => {
    const r = await probe({ type: 'HTTP', http: { port: closedPort, path: '/' } });
    expect(r).toEqual({ healthy: false, failure: `GET http://127.0.0.1:${closedPort}/: connect ECONNREFUSED 127.0.0.1:${closedPort}` });
  });

  it('passes a TCP check when something listens and fails it when nothing does', async () => {
    expect(await probe({ type: 'TCP', tcp: { port } })).toEqual({ healthy: true });
    expect(await probe({ type: 'TCP', tcp: { port: closedPort } })).toEqual({ healthy: false, failure: `connect ECONNREFUSED 127.0.0.1:${closedPort}` });
  });

  it('stops an HTTP check that does not answer when its signal aborts', async () => {
    const silent = createTcpServer((socket) => socket.resume()); // reads, never answers
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const abort = new AbortController();
    const check = { type: 'HTTP', http: { port: (silent.address() as AddressInfo).port, path: '/' } } as unknown as HealthCheckInfo;
    const pending = healthProbe(check, noDriver)(abort.signal);
    setTimeout(() => abort.abort(new Error('timed out')), 50);
    expect(await pending).toMatchObject({ healthy: false });
    await new Promise((resolve) => silent.close(resolve));
  });
});

// The agent's HTTP endpoint: GET /health, GET /state (JSON), GET /files/read,
// and its metrics at GET /metrics/snapshot (JSON) and GET /metrics
// (Prometheus), see metrics.ts. /state is served from a snapshot rebuilt only
// when the agent's version moved, so a poller never costs more than one
// JSON.stringify per change.
import { createServer, type Server, type ServerResponse } from 'node:http';
import { closeSync, fstatSync, openSync, readSync, realpathSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Agent } from './agent.js';
import { Resources } from '../common/resources.js';
import { isTerminal } from '../common/task-state.js';
import { serveMetrics } from '../common/metrics.js';
import { AgentMetrics } from './metrics.js';

export interface AgentHttp {
  readonly server: Server;
  readonly port: number;
  close(): Promise<void>;
}

export async function startAgentHttp(agent: Agent, ip: string, port: number): Promise<AgentHttp> {
  let built = -1;
  let json = '';
  // Started just before the agent recovers and registers: its uptime counts from here.
  const metrics = new AgentMetrics(agent, agent.options.clock.now());
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (path === '/metrics' || path === '/metrics/snapshot') return void serveMetrics(req, res, path, metrics).catch(() => res.destroy());
    if (req.method !== 'GET' && req.method !== 'HEAD') return void res.writeHead(405, { Allow: 'GET' }).end();
    if (path === '/health') return void res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok');
    if (path === '/files/read' || path === '/files/read.json') return void filesRead(agent, new URL(req.url ?? '/', 'http://agent'), res);
    if (path === '/state' || path === '/state.json') {
      if (built !== agent.version) {
        json = JSON.stringify(agentState(agent));
        built = agent.version;
      }
      return void res.writeHead(200, { 'Content-Type': 'application/json' }).end(json);
    }
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end(`no endpoint ${path}; try /state, /health, /metrics/snapshot, /metrics or /files/read\n`);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, ip, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
}

/** Largest slice /files/read returns at once. */
const MAX_READ = 1024 * 1024;

/**
 * GET /files/read?path=P&offset=N&length=M, as Mesos serves it: `{"data": ..., "offset": N}`.
 * Only files inside this agent's sandboxes can be read; offset=-1 answers the file's size.
 */
function filesRead(agent: Agent, url: URL, res: ServerResponse): void {
  const fail = (code: number, message: string) => void res.writeHead(code, { 'Content-Type': 'text/plain' }).end(message + '\n');
  const asked = url.searchParams.get('path');
  if (!asked) return fail(400, "missing query parameter 'path'");
  const offset = Number(url.searchParams.get('offset') ?? '0');
  const length = Math.min(Number(url.searchParams.get('length') ?? String(MAX_READ)), MAX_READ);
  if (!Number.isInteger(offset) || offset < -1 || !Number.isInteger(length) || length < 0) return fail(400, "'offset' and 'length' must be whole numbers (offset -1 asks for the size)");
  const root = realpathOrNull(join(agent.options.workDir, 'sandboxes'));
  const file = realpathOrNull(resolve(asked));
  if (!file) return fail(404, `no file ${asked}`);
  if (!root || !file.startsWith(root + sep)) return fail(403, `${asked} is not inside this agent's sandboxes`);
  let fd: number | null = null;
  try {
    fd = openSync(file, 'r');
    const size = fstatSync(fd).size;
    if (offset === -1) return void res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ data: '', offset: size }));
    const buffer = Buffer.alloc(Math.max(0, Math.min(length, size - offset)));
    const read = buffer.length > 0 ? readSync(fd, buffer, 0, buffer.length, offset) : 0;
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ data: buffer.subarray(0, read).toString('utf8'), offset }));
  } catch (err) {
    fail(500, `cannot read ${asked}: ${(err as Error).message}`);
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

function realpathOrNull(path: string): string | null {
  try {
    return realpathSync(path);
  } catch {
    return null;
  }
}

export function agentState(agent: Agent) {
  const runners = [...agent.runners.values()];
  const used = runners.filter((r) => !isTerminal(r.state)).reduce((sum, r) => sum.add(r.resources), Resources.EMPTY);
  return {
    id: agent.id,
    hostname: agent.options.hostname,
    master: agent.options.master,
    work_dir: agent.options.workDir,
    resources: agent.options.resources.toJSON(),
    used_resources: used.toJSON(),
    attributes: Object.fromEntries(agent.options.attributes.map((a) => [a.name, attributeValue(a)])),
    frameworks: [...agent.frameworks.values()].map((f) => ({ id: f.id?.value, name: f.name })),
    tasks: runners.map((r) => ({
      id: r.taskId, name: r.task.name, framework_id: r.frameworkId, state: r.state, container_id: r.containerId,
      sandbox: r.sandbox, resources: r.resources.toJSON(),
    })),
    pending_status_updates: agent.updates.pending().length,
  };
}

function attributeValue(a: Agent['options']['attributes'][number]): string | number | undefined {
  if (a.type === 'SCALAR') return a.scalar?.value;
  if (a.type === 'RANGES') return `[${(a.ranges?.range ?? []).map((r) => `${r.begin}-${r.end}`).join(',')}]`;
  return a.text?.value;
}

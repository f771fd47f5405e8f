// The agent's HTTP endpoints, named and shaped as a Mesos 1.11 agent's
// (each also under /slave(1)/, and with .json where Mesos has it):
//
//   GET  /health                     200, empty body
//   GET  /state                      state-json.ts (snapshot rebuilt when Agent.version moved)
//   GET  /flags, /version            state-json.ts
//   GET  /monitor/statistics         containers.ts: usage of every running task container (read live)
//   GET  /containers                 containers.ts: the same with each container's status
//   GET  /files/browse|read|download files.ts: sandboxes only (read live, async); /files/debug: the names
//   POST /api/v1                     operator-http.ts: the v1 agent API
//   GET  /metrics/snapshot, /metrics metrics.ts
//
// JSON answers take Mesos's ?jsonp=callback.
//
// Live readings never block the event loop: the driver's stats and the file
// system calls are async.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createReadStream, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Agent } from './agent.js';
import { writeJson } from '../common/jsonp.js';
import { serveMetrics } from '../common/metrics.js';
import { AgentMetrics } from './metrics.js';
import { flagsJson, stateJson, versionJson, type AgentIdentity, type BuildInfo } from './state-json.js';
import { containersJson, containerUsage, statisticsJson, type ContainerFilter } from './containers.js';
import { SandboxFiles, type Attachments, type SandboxCheck } from './files.js';
import { agentApiHandler, AGENT_API_PATHS } from './operator-http.js';
import type { Tls } from '../common/tls.js';
import { listenHttp } from '../common/tls-listener.js';
import type { AgentHttpSecurity } from './http-security.js';

export interface AgentHttp {
  readonly server: Server;
  readonly port: number;
  readonly scheme: 'http' | 'https';
  close(): Promise<void>;
}

type Route = (req: IncomingMessage, res: ServerResponse, url: URL) => void | Promise<void>;

/** `flags`: the agent's flags by name, for /flags and /state (default: none); `tls`: https (plain text refused) instead of http; `security`: authentication and --acls (none when omitted). */
export async function startAgentHttp(
  agent: Agent, ip: string, port: number, flags: Readonly<Record<string, unknown>> = {}, tls: Tls | null = null, security?: AgentHttpSecurity,
): Promise<AgentHttp> {
  // Started just before the agent recovers and registers: its uptime counts from here.
  const startTime = agent.options.clock.now();
  const metrics = new AgentMetrics(agent, startTime);
  let address = `${ip}:${port}`;
  const identity: AgentIdentity = { flags, startTime, address: () => address, build: BUILD };
  const files = new SandboxFiles(join(agent.options.workDir, 'sandboxes'), () => attachments(agent));
  const state = snapshot(agent, () => JSON.stringify(stateJson(agent, identity)));
  const flagsBody = JSON.stringify(flagsJson(flags));
  const versionBody = JSON.stringify(versionJson(BUILD));
  const api = agentApiHandler({ agent, identity, files, metrics, ...(security ? { security } : {}) });
  const sandboxCheck = (req: IncomingMessage) => security?.sandboxRefusal(req, () => [...agent.completed, ...agent.runners.values()]);
  const routes: Record<string, Route> = {
    '/health': (_req, res) => void res.writeHead(200, { 'Content-Length': 0 }).end(),
    '/state': (req, res, url) => {
      const view = security?.viewOf(req);
      json(res, url, view ? JSON.stringify(stateJson(agent, identity, view)) : state());
    },
    '/flags': (_req, res, url) => json(res, url, flagsBody),
    '/version': (_req, res, url) => json(res, url, versionBody),
    '/monitor/statistics': async (_req, res, url) => json(res, url, JSON.stringify(statisticsJson(await containerUsage(agent)))),
    '/containers': async (_req, res, url) => {
      const filter = containerFilter(url);
      if (typeof filter === 'string') return text(res, 400, filter);
      json(res, url, JSON.stringify(containersJson(await containerUsage(agent, filter), agent.options.ip)));
    },
    '/files/browse': async (req, res, url) => filesBrowse(files, url, res, sandboxCheck(req)),
    '/files/read': async (req, res, url) => filesRead(files, url, res, sandboxCheck(req)),
    '/files/download': async (req, res, url) => filesDownload(files, url, res, sandboxCheck(req)),
    '/files/debug': (_req, res, url) => json(res, url, JSON.stringify(Object.fromEntries(attachments(agent)))),
  };
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://agent');
    const path = url.pathname.replace(/^\/slave\(1\)(?=\/)/, '');
    if (security?.refused(req, res, path.replace(/\.json$/, ''))) return;
    if (path === '/metrics' || path === '/metrics/snapshot') return void serveMetrics(req, res, path, metrics).catch(() => res.destroy());
    if (AGENT_API_PATHS.has(path)) return void api(req, res);
    const route = routes[path] ?? routes[path.replace(/\.json$/, '')];
    if (!route) return text(res, 404, `no endpoint ${path}; try /state, /flags, /version, /containers, /monitor/statistics, /files/browse, /files/read, /files/download, /api/v1, /health or /metrics/snapshot`);
    if (req.method !== 'GET' && req.method !== 'HEAD') return void res.writeHead(405, { Allow: 'GET' }).end();
    Promise.resolve(route(req, res, url)).catch((err: Error) => {
      agent.logger.error({ component: 'http', err, method: req.method, path }, `internal error answering ${req.method} ${path}`);
      return res.headersSent ? res.destroy() : text(res, 500, err.message);
    });
  };
  const http = await listenHttp(ip, port, tls, handler, (fields, message) => agent.logger.warn({ component: 'http', ...fields }, message));
  address = `${ip}:${http.port}`;
  return http;
}

/** A body rebuilt only when the agent's version moved. */
function snapshot(agent: Agent, build: () => string): () => string {
  let built = -1;
  let body = '';
  return () => {
    if (built !== agent.version) {
      body = build();
      built = agent.version;
    }
    return body;
  };
}

/** Mesos's names for every sandbox this agent lists (see files.ts). */
function attachments(agent: Agent): Attachments {
  const names = new Map<string, string>();
  for (const r of [...agent.completed, ...agent.runners.values()]) {
    const run = `frameworks/${r.frameworkId}/executors/${r.taskId}/runs/latest`;
    names.set(r.sandbox, r.sandbox);
    names.set(`/${run}`, r.sandbox);
    if (agent.id) names.set(join(agent.options.workDir, 'slaves', agent.id, run), r.sandbox);
  }
  return names;
}

/** Mesos accepts container_id alone, framework_id alone, or framework_id with executor_id. */
function containerFilter(url: URL): ContainerFilter | string {
  const containerId = url.searchParams.get('container_id') ?? undefined;
  const frameworkId = url.searchParams.get('framework_id') ?? undefined;
  const executorId = url.searchParams.get('executor_id') ?? undefined;
  if ((containerId !== undefined && (frameworkId !== undefined || executorId !== undefined)) || (executorId !== undefined && frameworkId === undefined)) {
    return 'Supported query parameters are container_id only, framework_id only, or executor_id and framework_id only';
  }
  return { ...(containerId !== undefined ? { containerId } : {}), ...(frameworkId !== undefined ? { frameworkId } : {}), ...(executorId !== undefined ? { executorId } : {}) };
}

function requiredPath(url: URL, res: ServerResponse): string | null {
  const path = url.searchParams.get('path');
  if (path) return path;
  text(res, 400, "Expecting 'path=value' in query.");
  return null;
}

async function filesBrowse(files: SandboxFiles, url: URL, res: ServerResponse, check: SandboxCheck | undefined): Promise<void> {
  const path = requiredPath(url, res);
  if (path === null) return;
  const listed = await files.browse(path, check);
  if (!listed.ok) return text(res, listed.status, listed.message);
  json(res, url, JSON.stringify(listed.value.map(({ rawMode: _, ...entry }) => entry)));
}

/**
 * GET /files/read?path=&offset=&length=, as files.cpp reads it: `{"data", "offset"}`. No offset
 * (or -1) answers the file's size in `offset` with no data; no length (or -1) reads to the end,
 * at most 64 KiB; an offset past the end reads nothing.
 */
async function filesRead(files: SandboxFiles, url: URL, res: ServerResponse, check: SandboxCheck | undefined): Promise<void> {
  const path = requiredPath(url, res);
  if (path === null) return;
  const offset = wholeNumber(url.searchParams.get('offset'), -1);
  const length = wholeNumber(url.searchParams.get('length'), -1);
  if (offset === null) return text(res, 400, `Failed to parse offset: '${url.searchParams.get('offset')}' is not a whole number >= -1.`);
  if (length === null) return text(res, 400, `Failed to parse length: '${url.searchParams.get('length')}' is not a whole number >= -1.`);
  const read = await files.read(path, Math.max(offset, 0), offset === -1 ? 0 : length === -1 ? undefined : length, check);
  if (!read.ok) return text(res, read.status, read.message);
  json(res, url, JSON.stringify({ data: read.value.data.toString('utf8'), offset: offset === -1 ? read.value.size : offset }));
}

async function filesDownload(files: SandboxFiles, url: URL, res: ServerResponse, check: SandboxCheck | undefined): Promise<void> {
  const path = requiredPath(url, res);
  if (path === null) return;
  const found = await files.download(path, check);
  if (!found.ok) return text(res, found.status, found.message);
  res.writeHead(200, {
    'Content-Type': 'application/octet-stream', 'Content-Length': found.value.size,
    'Content-Disposition': `attachment; filename="${basename(found.value.file).replace(/"/g, '')}"`,
  });
  createReadStream(found.value.file, { end: Math.max(0, found.value.size - 1) }).on('error', () => res.destroy()).pipe(res);
}

/** A query value as a whole number >= -1 (`fallback` when absent); null when it is not one. */
function wholeNumber(value: string | null, fallback: number): number | null {
  if (value === null || value === '') return fallback;
  const n = Number(value);
  return /^-?\d+$/.test(value.trim()) && Number.isSafeInteger(n) && n >= -1 ? n : null;
}

/** 200 with JSON; with ?jsonp=f, as Mesos answers it (common/jsonp.ts; Mesos's web UI reads agents so). */
function json(res: ServerResponse, url: URL, body: string): void {
  writeJson(res, body, url.searchParams.get('jsonp'));
}

function text(res: ServerResponse, status: number, message: string): void {
  const body = message.endsWith('\n') ? message : `${message}\n`;
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body) }).end(body);
}

/** Mesos reports when and by whom it was built; mesos-ts, when the agent's code was (the module's mtime). */
const BUILD: BuildInfo = (() => {
  let time = 0;
  try {
    time = Math.floor(statSync(fileURLToPath(import.meta.url)).mtimeMs / 1000);
  } catch {
    // Bundled or virtual: no date to tell.
  }
  return { date: new Date(time * 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ''), time, user: process.env.USER ?? '' };
})();

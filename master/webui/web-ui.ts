// The web UI's HTTP side: the page at `/`, its static assets under `/ui/`,
// `/ui/leader.json` (does this master lead, and who does), and a read-only
// proxy to registered agents' `/state` and `/files/read` under
// `/ui/agent/<agent_id>/`, because agents answer on other origins without
// CORS headers. Everything the page shows live comes from the operator API
// (`POST /api/v1` SUBSCRIBE) and `/master/state`; see docs/webui.md.
//
//   GET /                        index.html (every master; a standby's page says so and links to the leader)
//   GET /ui/<asset>              the files of ./assets, by name (no directories)
//   GET /ui/leader.json          { leading, self, leader }
//   GET /ui/agent/<id>/state     the agent's /state          } leader only: 307 to the leader elsewhere,
//   GET /ui/agent/<id>/files/read?path=&offset=&length=      }   404 for an agent the master does not know
import type { ServerResponse } from 'node:http';
import { errorMessage } from '../../common/errors.js';
import { redirectToLeader, reply, type HttpHandler } from '../http.js';
import { isHostname } from '../validation.js';
import type { Master } from '../master.js';
import type { Fetch } from '../../common/tls-fetch.js';
import { SECURITY_HEADERS, staticAssets } from './static-assets.js';

export interface WebUiOptions {
  /** True while this master leads and acts: its operator API answers, so the page subscribes here. */
  readonly leading: () => boolean;
  /** The leading master's HTTP host:port when another master leads; null while none is known. */
  readonly leaderHttp: () => string | null;
  /** This master's HTTP host:port. */
  readonly selfHttp: () => string;
  /** A registered agent's HTTP host:port, or null for an agent this master does not know. */
  readonly agentHttp: (agentId: string) => string | null;
  /** How agents are reached: 'https' (with `fetch` trusting our CA) when the cluster speaks TLS. Default 'http' and the global fetch. */
  readonly scheme?: 'http' | 'https';
  readonly fetch?: Fetch;
}

const ASSETS_DIR = new URL('./assets/', import.meta.url);
/** How long the proxy waits for an agent before answering 504. */
const AGENT_TIMEOUT_MS = 5_000;

/** Replies larger than this are not passed on (an agent's /state of thousands of tasks stays well below). */
const MAX_AGENT_REPLY_BYTES = 8 * 1024 * 1024;

/**
 * The `agentHttp` option for a master: the address the agent registered
 * (its IP, else its host name) and port, each checked again here, so the
 * proxy can only ever reach a registered agent's HTTP endpoint.
 */
export function agentHttpOf(master: Master): (agentId: string) => string | null {
  return (agentId) => {
    const agent = master.agents.get(agentId);
    if (!agent) return null;
    const host = agent.ip || agent.info.hostname;
    const port = agent.info.port;
    if (!isHostname(host) || !Number.isInteger(port) || port < 1 || port > 65535) return null;
    return `${host.includes(':') ? `[${host}]` : host}:${port}`;
  };
}

export function webUi(options: WebUiOptions): HttpHandler {
  const serveAsset = staticAssets(ASSETS_DIR);
  return async (req, res, path) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    if (path === '/' || path === '/index.html') return serveAsset('index.html', res);
    if (!path.startsWith('/ui/')) return false;
    const rest = path.slice('/ui/'.length);
    if (rest === 'leader.json') {
      const leading = options.leading();
      const body = JSON.stringify({ leading, self: options.selfHttp(), leader: leading ? options.selfHttp() : options.leaderHttp() });
      res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
      return true;
    }
    const proxied = /^agent\/([^/]+)\/(state|files\/read)$/.exec(rest);
    if (proxied) {
      if (!options.leading()) {
        redirectToLeader(res, options.leaderHttp(), req.url ?? path);
        return true;
      }
      const agentId = decodeOrNull(proxied[1]!);
      if (agentId === null) reply(res, 400, 'text/plain; charset=utf-8', `malformed agent id in ${path}\n`);
      else await proxyToAgent(options, agentId, proxied[2]!, new URL(req.url ?? path, 'http://master'), req.headers.authorization, res);
      return true;
    }
    return serveAsset(rest, res);
  };
}

/**
 * GET the agent's /state or /files/read (only its path, offset and length
 * pass, and the caller's Authorization header: the agent authenticates and
 * authorizes the caller itself, access_sandboxes included, so the proxy
 * grants nothing the agent would not) and answer what it answered.
 */
async function proxyToAgent(options: WebUiOptions, agentId: string, what: string, url: URL, authorization: string | undefined, res: ServerResponse): Promise<void> {
  const agent = options.agentHttp(agentId);
  if (!agent) return reply(res, 404, 'text/plain; charset=utf-8', `this master knows no agent ${agentId}\n`);
  const target = new URL(`${options.scheme ?? 'http'}://${agent}/${what}`);
  if (what === 'files/read') {
    for (const key of ['path', 'offset', 'length']) {
      const value = url.searchParams.get(key);
      if (value !== null) target.searchParams.set(key, value);
    }
  }
  let answer: Response;
  let body: Buffer;
  try {
    // Redirects are not followed: the proxy reaches the agent's own endpoint and nothing it points elsewhere.
    const headers: Record<string, string> = authorization !== undefined ? { Authorization: authorization } : {};
    answer = await (options.fetch ?? fetch)(target, { signal: AbortSignal.timeout(AGENT_TIMEOUT_MS), redirect: 'manual', headers });
    if (answer.status >= 300 && answer.status < 400) return reply(res, 502, 'text/plain; charset=utf-8', `agent ${agentId} answered with a redirect; not followed\n`);
    body = await cappedBody(answer, MAX_AGENT_REPLY_BYTES);
  } catch (err) {
    return reply(res, 504, 'text/plain; charset=utf-8', `agent ${agentId} at ${agent} did not answer: ${errorMessage(err)}\n`);
  }
  // Our own content type, never the agent's: what it sends is data for the page, not a page.
  // An agent's 401 asks the browser for credentials as the master's does.
  const challenge = answer.status === 401 ? { 'WWW-Authenticate': 'Basic realm="mesos"' } : {};
  res.writeHead(answer.status, { ...SECURITY_HEADERS, ...challenge, 'Content-Type': answer.ok ? 'application/json' : 'text/plain; charset=utf-8', 'Content-Length': body.length });
  res.end(body);
}

/** The body, read up to `max` bytes; longer ones are refused (the read is cancelled). */
async function cappedBody(answer: Response, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of answer.body ?? []) {
    size += (chunk as Uint8Array).length;
    if (size > max) {
      await answer.body?.cancel().catch(() => {});
      throw new Error(`its reply exceeds ${max} bytes`);
    }
    chunks.push(Buffer.from(chunk as Uint8Array));
  }
  return Buffer.concat(chunks);
}

function decodeOrNull(component: string): string | null {
  try {
    return decodeURIComponent(component);
  } catch {
    return null;
  }
}

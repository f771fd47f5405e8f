// The agent's HTTP endpoint: GET /health and GET /state (JSON). /state is
// served from a snapshot rebuilt only when the agent's version moved, so a
// poller never costs more than one JSON.stringify per change.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Agent } from './agent.js';
import { Resources } from '../common/resources.js';
import { isTerminal } from '../common/task-state.js';

export interface AgentHttp {
  readonly server: Server;
  readonly port: number;
  close(): Promise<void>;
}

export async function startAgentHttp(agent: Agent, ip: string, port: number): Promise<AgentHttp> {
  let built = -1;
  let json = '';
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return void res.writeHead(405, { Allow: 'GET' }).end();
    if (path === '/health') return void res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok');
    if (path === '/state' || path === '/state.json') {
      if (built !== agent.version) {
        json = JSON.stringify(agentState(agent));
        built = agent.version;
      }
      return void res.writeHead(200, { 'Content-Type': 'application/json' }).end(json);
    }
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end(`no endpoint ${path}; try /state or /health\n`);
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

export function agentState(agent: Agent) {
  const runners = [...agent.runners.values()];
  const used = runners.filter((r) => !isTerminal(r.state)).reduce((sum, r) => sum.add(r.resources), Resources.EMPTY);
  return {
    id: agent.id,
    hostname: agent.options.hostname,
    master: agent.options.master,
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

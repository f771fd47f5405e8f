// The agent's HTTP endpoint: GET /health and GET /state (JSON), the state
// rebuilt only when something changed.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Agent } from './agent.js';
import { Resources } from '../common/resources.js';
import { isTerminal } from '../common/task-state.js';

export async function startAgentHttp(agent: Agent, ip: string, port: number): Promise<{ server: Server; port: number }> {
  let built = -1;
  let json = '';
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/health') return void res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok\n');
    if (path === '/state' || path === '/slave(1)/state' || path === '/state.json') {
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
    server.listen(port, ip, () => resolve());
  });
  return { server, port: (server.address() as AddressInfo).port };
}

function agentState(agent: Agent) {
  const runners = [...agent.runners.values()];
  const used = runners.filter((r) => !isTerminal(r.state)).reduce((sum, r) => sum.add(r.resources), Resources.EMPTY);
  return {
    id: agent.id,
    hostname: agent.options.hostname,
    master: agent.options.master,
    resources: agent.options.resources.toJSON(),
    used_resources: used.toJSON(),
    attributes: Object.fromEntries(agent.options.attributes.map((a) => [a.name, a.text?.value ?? a.scalar?.value])),
    frameworks: [...agent.frameworks.values()].map((f) => ({ id: f.id?.value, name: f.name })),
    tasks: runners.map((r) => ({
      id: r.taskId, framework_id: r.frameworkId, state: r.state, container_id: r.containerId, sandbox: r.sandbox, resources: r.resources.toJSON(),
    })),
    pending_status_updates: agent.updates.pending().length,
  };
}

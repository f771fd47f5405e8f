// The master's HTTP endpoint for operators: GET /state (and /master/state),
// GET /health. Later issues add the v1 scheduler HTTP API here.
import { createServer, type Server, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { StateSnapshot } from './state-snapshot.js';

export interface MasterHttpOptions {
  readonly ip: string;
  readonly port: number;
  /** The snapshot of the leading master, or null when this master does not lead. */
  readonly state: () => StateSnapshot | null;
  /** The leader's HTTP host:port when another master leads (non-leaders redirect there). */
  readonly leaderHttp?: () => string | null;
}

export async function startMasterHttp(options: MasterHttpOptions): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => route(options, req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.ip, () => resolve());
  });
  return { server, port: (server.address() as AddressInfo).port };
}

function route(options: MasterHttpOptions, req: IncomingMessage, res: ServerResponse): void {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method !== 'GET' && req.method !== 'HEAD') return reply(res, 405, 'text/plain', `${req.method} is not allowed on ${path}\n`);
  switch (path) {
    case '/health':
    case '/master/health':
      return reply(res, 200, 'text/plain', 'ok\n');
    case '/state':
    case '/master/state':
    case '/state.json':
    case '/master/state.json': {
      const snapshot = options.state();
      if (!snapshot) {
        const leader = options.leaderHttp?.();
        if (leader) {
          // As Mesos does: a protocol-relative Location naming the leader.
          res.writeHead(307, { Location: `//${leader}${req.url ?? path}`, 'Content-Type': 'text/plain' });
          return void res.end(`this master is not the leader; the leader is ${leader}\n`);
        }
        return reply(res, 503, 'text/plain', 'no leading master is known\n');
      }
      return reply(res, 200, 'application/json', snapshot.get());
    }
    default:
      return reply(res, 404, 'text/plain', `no endpoint ${path}; try /state or /health\n`);
  }
}

function reply(res: ServerResponse, code: number, type: string, body: string): void {
  res.writeHead(code, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

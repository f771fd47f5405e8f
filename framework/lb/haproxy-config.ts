// The HAProxy configuration for a Routing (model.ts), and the part of it
// that only a reload can change. Servers come and go through HAProxy's
// runtime API (add server, drain, del server) with no reload; frontends,
// backends and virtual hosts are the config's *shape*: when that changes,
// the balancer writes the file and reloads HAProxy seamlessly (the new
// worker takes the listening sockets over, the old one finishes its
// connections). The file always lists the current servers, so a reload
// (or a restart) starts from the truth.
import type { Routing } from './model.js';

export interface HaproxySettings {
  /** The admin socket the balancer drives the runtime API through; `expose-fd listeners` lets a reload take the sockets over. */
  readonly adminSocket: string;
  /** The shared HTTP frontend for virtual hosts (HAPROXY_{n}_VHOST), or null for none. */
  readonly httpPort: number | null;
  /** HAProxy's statistics page (/haproxy?stats), or null for none. */
  readonly statsPort: number | null;
  readonly bindAddress: string;
  /** Longest time a client, a server or a connect may stay silent. */
  readonly timeoutSeconds: number;
}

const HTTP_FRONTEND = 'mesos_ts_http_in';

/**
 * On a reload, the old worker would close its idle keep-alive connections,
 * and a client sending its next request just then sees the connection reset.
 * With this option it waits for that request, answers it with
 * `Connection: close`, and only then closes.
 */
const HTTP_FRONTEND_OPTIONS = ['  option idle-close-on-response'];

/** The configuration text: deterministic for equal inputs. */
export function renderConfig(routing: Routing, settings: HaproxySettings): string {
  const t = `${settings.timeoutSeconds}s`;
  const lines = [
    '# Written by mesos-ts lb from the apps API; changes here are overwritten.',
    'global',
    `  stats socket ${settings.adminSocket} mode 600 level admin expose-fd listeners`,
    '  stats timeout 2m',
    // A port another process already listens on is an error, not a silent share of its traffic (SO_REUSEPORT):
    // a reload takes the old worker's sockets over through the socket above, so it needs no reuse.
    '  noreuseport',
    '',
    'defaults',
    '  mode tcp',
    '  option redispatch',
    '  retries 3',
    '  timeout connect 5s',
    `  timeout client ${t}`,
    `  timeout server ${t}`,
    '  timeout http-request 15s',
    // A reload's old worker keeps its connections this long at most.
    `  timeout client-fin ${t}`,
    '',
  ];
  if (settings.statsPort !== null) {
    lines.push('listen stats', `  bind ${settings.bindAddress}:${settings.statsPort}`, '  mode http', '  stats enable', '  stats uri /haproxy?stats', '  stats refresh 5s', '');
  }
  if (settings.httpPort !== null && routing.vhosts.length > 0) {
    lines.push(`frontend ${HTTP_FRONTEND}`, `  bind ${settings.bindAddress}:${settings.httpPort}`, '  mode http', '  option httplog', ...HTTP_FRONTEND_OPTIONS);
    for (const v of routing.vhosts) lines.push(`  use_backend ${v.backend} if { hdr(host),field(1,:),lower -m str ${v.host} }`);
    lines.push('');
  }
  for (const f of routing.frontends) {
    lines.push(`frontend ${f.name}`, `  bind ${f.bindAddress}:${f.port}`, `  mode ${f.mode}`, ...(f.mode === 'http' ? HTTP_FRONTEND_OPTIONS : []), `  default_backend ${f.backend}`, '');
  }
  for (const b of routing.backends) {
    lines.push(`backend ${b.name}`, `  mode ${b.mode}`, `  balance ${b.balance}`);
    // A request whose server connection failed (a task ending under it) is sent again, to another server, by HAProxy itself.
    if (b.mode === 'http') lines.push('  option forwardfor', '  retry-on conn-failure empty-response response-timeout', '  option redispatch 1');
    for (const s of b.servers) lines.push(`  server ${s.name} ${s.host}:${s.port}`);
    lines.push('');
  }
  return lines.join('\n');
}

/** What a reload is needed for: the routing without its servers. Equal shapes: the runtime API suffices. */
export function shapeOf(routing: Routing, settings: HaproxySettings): string {
  return renderConfig({ ...routing, backends: routing.backends.map((b) => ({ ...b, servers: [] })) }, settings);
}

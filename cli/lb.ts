// `mesos-ts lb`: HAProxy in front of the apps an apps API (mesos-ts apps, or
// Marathon) runs, as marathon-lb does: one frontend per service port, HTTP
// virtual hosts from HAPROXY_{n}_VHOST, backends from the running, healthy
// and ready tasks, kept in step through the API's event stream. See
// framework/lb/.
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLIENT_CREDENTIAL_FLAGS, basicAuthorization, clientCredential } from '../common/credentials.js';
import { parseFlags, usage } from '../common/flags.js';
import { InvalidArgument } from '../common/errors.js';
import { TLS_FLAGS, clientTls } from '../common/tls.js';
import { tlsFetch } from '../common/tls-fetch.js';
import { LOG_FLAGS, loggerOptions } from '../common/log/flags.js';
import { createLogger } from '../common/log/logger.js';
import { AppsSource } from '../framework/lb/apps-source.js';
import { Balancer, type SyncReport } from '../framework/lb/balancer.js';
import { Haproxy } from '../framework/lb/haproxy.js';

export const LB_FLAGS = {
  apps: { type: 'string', required: true, help: 'the apps API: http://HOST:PORT (mesos-ts apps or Marathon); several, comma-separated, are tried in turn' },
  bind_ip: { type: 'string', default: '127.0.0.1', help: 'address the service ports (and the HTTP and stats ports) are bound on' },
  http_port: { type: 'number', default: 9080, help: 'port of the shared HTTP frontend for virtual hosts (HAPROXY_{n}_VHOST); 0: none' },
  stats_port: { type: 'number', default: 9090, help: "port of HAProxy's statistics page, /haproxy?stats; 0: none" },
  group: { type: 'string', default: '*', help: "HAPROXY_GROUP values to serve, comma-separated; '*' serves every app (marathon-lb's --group)" },
  drain_seconds: { type: 'duration', default: 30, help: 'a server that leaves keeps its open connections this long at most (no new ones reach it)' },
  resync_seconds: { type: 'duration', default: 30, help: 'read every app this often even without events' },
  timeout: { type: 'duration', default: 60, help: "HAProxy's client and server inactivity timeout" },
  work_dir: { type: 'string', help: "where HAProxy's configuration and admin socket go (default: a new directory under /tmp)" },
  haproxy: { type: 'string', default: 'haproxy', help: 'the haproxy executable' },
  // Presented to an apps API that authenticates, and TLS to one that speaks https (LIBPROCESS_SSL_* too).
  ...CLIENT_CREDENTIAL_FLAGS,
  ...TLS_FLAGS,
  ...LOG_FLAGS,
} as const;

export async function lbCommand(argv: string[]): Promise<number> {
  const flags = parseFlags(LB_FLAGS, argv, { env: process.env });
  if (flags.help) {
    process.stdout.write(usage('lb', 'Runs HAProxy in front of the apps of an apps API (mesos-ts apps or Marathon), as marathon-lb does.', LB_FLAGS) + '\n');
    return 0;
  }
  if (flags._.length > 0) throw new InvalidArgument(`unexpected argument '${flags._[0]}'`);
  const urls = flags.apps.split(',').map((u) => u.trim()).filter((u) => u !== '');
  for (const url of urls) if (!/^https?:\/\/[^\s/]+/.test(url)) throw new InvalidArgument(`--apps must be http://HOST:PORT, got '${url}'`);
  const port = (name: string, value: number) => {
    if (!Number.isInteger(value) || value < 0 || value > 65535) throw new InvalidArgument(`--${name} must be a port (0-65535), got ${value}`);
    return value === 0 ? null : value;
  };
  const credential = clientCredential(flags);
  const tls = clientTls(flags, process.env);
  const logger = createLogger(loggerOptions(flags, 'lb'));
  await Haproxy.version(flags.haproxy);
  const dir = flags.work_dir ?? mkdtempSync(join(tmpdir(), 'mesos-ts-lb-'));
  mkdirSync(dir, { recursive: true });
  const settings = {
    adminSocket: join(dir, 'admin.sock'), httpPort: port('http_port', flags.http_port), statsPort: port('stats_port', flags.stats_port),
    bindAddress: flags.bind_ip, timeoutSeconds: flags.timeout,
  };
  const balancer = new Balancer({
    source: new AppsSource({ urls, authorization: credential ? basicAuthorization(credential) : undefined, fetch: tlsFetch(tls) }),
    haproxy: new Haproxy({ binary: flags.haproxy, configFile: join(dir, 'haproxy.cfg'), adminSocket: settings.adminSocket, logger: logger.child({ component: 'haproxy' }) }),
    settings,
    routing: { bindAddress: flags.bind_ip, groups: flags.group.split(',').map((g) => g.trim()) },
    drainSeconds: flags.drain_seconds,
    resyncSeconds: flags.resync_seconds,
    logger,
  });
  balancer.onSync = (r: SyncReport) =>
    logger.info(r.reloaded ? `HAProxy ${r.added > 0 ? 'started' : 'reloaded'}: ${r.servers} servers` : `servers: ${r.added} added, ${r.drained} draining, ${r.servers} serving (no reload)`);
  logger.info(`following ${urls.join(', ')}; HAProxy's files in ${dir}`);
  await balancer.start();
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  logger.info('stopping HAProxy');
  await balancer.stop();
  return 0;
}

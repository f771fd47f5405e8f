// zk:// URLs as Mesos takes them: zk://[user:password@]host1:port1,host2:port2/path.
// Credentials are used for ZooKeeper's digest authentication (see session.ts);
// they never appear in what we print (redactText: zk://user:[REDACTED]@host/path).
import { InvalidArgument } from '../errors.js';
import { redactText } from '../log/redact.js';

export interface ZkUrl {
  /** host:port[,host:port], what a ZooKeeper client connects to. */
  readonly servers: string;
  /** The election path, e.g. /mesos. */
  readonly path: string;
  /** `user:password` for digest authentication, when the URL carries credentials. */
  readonly auth?: string;
}

/**
 * Checks a `--master` flag at the edge: `host:port` (several, comma-separated,
 * when `several`) or a zk:// URL. The message names the flag and the value.
 */
export function checkMasterFlag(master: string, options: { readonly several?: boolean } = {}): void {
  if (master.startsWith('zk://')) {
    parseZkUrl(master);
    return;
  }
  const addresses = options.several ? master.split(',').map((a) => a.trim()) : [master];
  if (addresses.some((a) => !/^[^:\s]+:\d{1,5}$/.test(a))) {
    const form = options.several ? 'host:port (or several, comma-separated)' : 'host:port';
    throw new InvalidArgument(`--master must be ${form} or zk://host:port/path, got '${master}'`);
  }
}

export function parseZkUrl(url: string): ZkUrl {
  const m = /^zk:\/\/(?:([^@/]+)@)?([^/]+)(\/.*)$/.exec(url.trim());
  if (!m) throw new InvalidArgument(`'${redactText(url)}' is not a ZooKeeper URL; expected zk://[user:password@]host:port[,host:port]/path`);
  const [, auth, servers = '', path = ''] = m;
  if (auth !== undefined && !/^[^:]+:.+$/.test(auth)) throw new InvalidArgument(`'${redactText(url)}': credentials must be user:password`);
  for (const server of servers.split(',')) {
    const hp = /^([^:\s]+):(\d{1,5})$/.exec(server);
    if (!hp || Number(hp[2]) < 1 || Number(hp[2]) > 65535) {
      throw new InvalidArgument(`'${redactText(url)}': server '${server}' is not host:port`);
    }
  }
  if (path === '/' || path.endsWith('/') || path.includes('//')) throw new InvalidArgument(`'${redactText(url)}': path '${path}' must name a znode, e.g. /mesos`);
  return { servers, path, ...(auth !== undefined ? { auth } : {}) };
}

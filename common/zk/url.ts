// zk:// URLs as Mesos takes them: zk://host1:port1,host2:port2/path
// (credentials `user:pass@` are accepted and ignored for now).
import { InvalidArgument } from '../errors.js';

export interface ZkUrl {
  /** host:port[,host:port], what a ZooKeeper client connects to. */
  readonly servers: string;
  /** The election path, e.g. /mesos. */
  readonly path: string;
}

export function parseZkUrl(url: string): ZkUrl {
  const m = /^zk:\/\/(?:[^@/]+@)?([^/]+)(\/.*)$/.exec(url.trim());
  if (!m) throw new InvalidArgument(`'${url}' is not a ZooKeeper URL; expected zk://host:port[,host:port]/path`);
  const [, servers = '', path = ''] = m;
  for (const server of servers.split(',')) {
    const hp = /^([^:\s]+):(\d{1,5})$/.exec(server);
    if (!hp || Number(hp[2]) < 1 || Number(hp[2]) > 65535) {
      throw new InvalidArgument(`'${url}': server '${server}' is not host:port`);
    }
  }
  if (path === '/' || path.endsWith('/') || path.includes('//')) throw new InvalidArgument(`'${url}': path '${path}' must name a znode, e.g. /mesos`);
  return { servers, path };
}

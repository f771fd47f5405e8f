import { describe, expect, it } from 'vitest';
import { parseZkUrl } from '../../common/zk/url.js';

describe('parseZkUrl', () => {
  it('reads servers and path', () => {
    expect(parseZkUrl('zk://127.0.0.1:2181,127.0.0.1:2182/mesos')).toEqual({ servers: '127.0.0.1:2181,127.0.0.1:2182', path: '/mesos' });
    expect(parseZkUrl('zk://user:secret@zk1:2181/a/b')).toEqual({ servers: 'zk1:2181', path: '/a/b' });
  });
  it.each([
    ['http://x:1/mesos', 'is not a ZooKeeper URL'],
    ['zk://x/mesos', "server 'x' is not host:port"],
    ['zk://x:99999/mesos', "server 'x:99999' is not host:port"],
    ['zk://x:1/', "path '/' must name a znode"],
    ['zk://x:1', 'is not a ZooKeeper URL'],
  ])('rejects %s', (url, message) => {
    expect(() => parseZkUrl(url)).toThrow(message);
  });
});

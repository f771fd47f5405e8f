import { describe, expect, it } from 'vitest';
import { parseZkUrl } from '../../common/zk/url.js';
import { redactText } from '../../common/log/redact.js';

describe('parseZkUrl', () => {
  it('reads servers and path', () => {
    expect(parseZkUrl('zk://127.0.0.1:2181,127.0.0.1:2182/mesos')).toEqual({ servers: '127.0.0.1:2181,127.0.0.1:2182', path: '/mesos' });
    expect(parseZkUrl('zk://user:secret@zk1:2181/a/b')).toEqual({ servers: 'zk1:2181', path: '/a/b', auth: 'user:secret' });
  });
  it('keeps credentials out of what it prints, in messages too', () => {
    expect(redactText('at zk://user:secret@zk1:2181/a and zk://token@zk2:1/b')).toBe('at zk://user:[REDACTED]@zk1:2181/a and zk://[REDACTED]@zk2:1/b');
    expect(() => parseZkUrl('zk://user:secret@zk1/mesos')).toThrow("'zk://user:[REDACTED]@zk1/mesos': server 'zk1' is not host:port");
    expect(() => parseZkUrl('zk://secret@zk1:2181/mesos')).toThrow("'zk://[REDACTED]@zk1:2181/mesos': credentials must be user:password");
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

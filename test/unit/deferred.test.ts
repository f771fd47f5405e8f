// The shared deferred: settled from outside, and a rejection nobody awaits
// is not an unhandled rejection (vitest fails the run on one).
import { describe, expect, it } from 'vitest';
import { deferred } from '../../common/deferred.js';

describe('deferred', () => {
  it('settles its promise from outside', async () => {
    const d = deferred<number>();
    d.resolve(7);
    await expect(d.promise).resolves.toBe(7);
  });

  it('passes a rejection to whoever awaits, and to nobody else', async () => {
    const awaited = deferred();
    awaited.reject(new Error('write failed'));
    await expect(awaited.promise).rejects.toThrow('write failed');
    deferred().reject(new Error('nobody waits'));
    await new Promise((resolve) => setImmediate(resolve));
  });
});

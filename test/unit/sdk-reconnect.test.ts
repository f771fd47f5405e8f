import { describe, expect, it } from 'vitest';
import { InvalidArgument } from '../../common/errors.js';
import { DEFAULT_RECONNECT, reconnectDelay, reconnectSchedule, resolveReconnect } from '../../framework/sdk/reconnect.js';

const middle = () => 0.5; // jitter factor 1: the bare schedule

describe('reconnect backoff', () => {
  it('doubles from 500 ms up to the 30 s cap by default', () => {
    expect(reconnectSchedule(9, DEFAULT_RECONNECT, middle)).toEqual([500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
  });

  it('jitters each wait by ±20 % and never beyond the cap', () => {
    expect(reconnectDelay(1, DEFAULT_RECONNECT, () => 0)).toBe(400); // 500 × 0.8
    expect(reconnectDelay(1, DEFAULT_RECONNECT, () => 0.999999)).toBe(600); // 500 × 1.2
    expect(reconnectDelay(20, DEFAULT_RECONNECT, () => 0.999999)).toBe(30000);
    expect(reconnectDelay(20, DEFAULT_RECONNECT, () => 0)).toBe(24000);
  });

  it('follows custom options', () => {
    const opts = resolveReconnect({ initialDelayMs: 100, multiplier: 3, maxDelayMs: 1000, jitter: 0 });
    expect(reconnectSchedule(4, opts, Math.random)).toEqual([100, 300, 900, 1000]);
  });

  it('documents its defaults in one object', () => {
    expect(resolveReconnect()).toEqual(DEFAULT_RECONNECT);
    expect(DEFAULT_RECONNECT).toMatchObject({ missedHeartbeats: 5, maxAttempts: Infinity, callTimeoutMs: 10_000 });
    expect(resolveReconnect({ initialDelayMs: undefined }).initialDelayMs).toBe(500);
  });

  it.each([
    [{ initialDelayMs: 0 }, /reconnect.initialDelayMs must be positive/],
    [{ jitter: 1 }, /reconnect.jitter must be in \[0, 1\)/],
    [{ multiplier: 0.5 }, /reconnect.multiplier must be >= 1/],
    [{ initialDelayMs: 5000, maxDelayMs: 1000 }, /maxDelayMs \(1000\) is below/],
    [{ missedHeartbeats: -1 }, /missedHeartbeats must be positive/],
  ])('rejects %j', (patch, message) => {
    expect(() => resolveReconnect(patch)).toThrow(InvalidArgument);
    expect(() => resolveReconnect(patch)).toThrow(message);
  });
});

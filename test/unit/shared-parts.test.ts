import { describe, expect, it } from 'vitest';
import { sharedAgentId, sharedResources } from '../../master/state/shared-parts.js';

describe('shared parts of kept messages', () => {
  it('gives equal resource lists one instance, and unequal ones their own', () => {
    const cpus = (v: number) => [{ name: 'cpus', type: 'SCALAR', scalar: { value: v }, role: '*' }];
    const first = sharedResources(cpus(0.1));
    expect(sharedResources(cpus(0.1))).toBe(first);
    const other = cpus(0.2);
    expect(sharedResources(other)).toBe(other);
    expect(first).toEqual(cpus(0.1));
  });

  it('shares an AgentID that has only its value, and leaves any other as it is', () => {
    const a = sharedAgentId({ value: 'agent-S1' });
    expect(sharedAgentId({ value: 'agent-S1' })).toBe(a);
    const withMore = { value: 'agent-S1', extra: 1 };
    expect(sharedAgentId(withMore)).toBe(withMore);
  });
});

import { describe, expect, it } from 'vitest';
import { sharedAgentId, sharedResources } from '../../master/state/shared-parts.js';

describe('shared parts of kept messages', () => {
  it('gives equal resource lists one instance, and one parsed value; unequal ones keep their own', () => {
    const cpus = (v: number) => [{ name: 'cpus', type: 'SCALAR', scalar: { value: v }, role: '*' }];
    const first = sharedResources(cpus(0.1), { parsed: 0.1 });
    const again = sharedResources(cpus(0.1), { parsed: 0.1 });
    expect(again.list).toBe(first.list);
    expect(again.parsed).toBe(first.parsed);
    const other = cpus(0.2);
    const otherParsed = { parsed: 0.2 };
    expect(sharedResources(other, otherParsed)).toEqual({ list: other, parsed: otherParsed });
    expect(sharedResources(other, { parsed: 0.2 }).parsed).toBe(otherParsed);
    expect(first.list).toEqual(cpus(0.1));
  });

  it('shares an AgentID that has only its value, and leaves any other as it is', () => {
    const a = sharedAgentId({ value: 'agent-S1' });
    expect(sharedAgentId({ value: 'agent-S1' })).toBe(a);
    const withMore = { value: 'agent-S1', extra: 1 };
    expect(sharedAgentId(withMore)).toBe(withMore);
  });
});

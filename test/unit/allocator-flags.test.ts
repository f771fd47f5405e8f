// --weights, --quota and --min_allocatable_resources: what parses, and that
// each error names the flag and the bad part of its value.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseMinAllocatable, parseQuota, parseWeights } from '../../master/allocator/flags.js';
import { allocatorOptions } from '../../master/main.js';

const text = (quota: Map<string, { guarantee?: { toString(): string }; limit?: { toString(): string } }>) =>
  Object.fromEntries([...quota].map(([role, q]) => [role, `${q.guarantee?.toString() ?? ''}/${q.limit?.toString() ?? ''}`]));

describe('--weights', () => {
  it('parses Mesos syntax ROLE=WEIGHT,...', () => {
    expect(Object.fromEntries(parseWeights('ops=2, dev=0.5'))).toEqual({ ops: 2, dev: 0.5 });
    expect(parseWeights('').size).toBe(0);
  });

  it.each([
    ['ops', "--weights: 'ops' is not ROLE=WEIGHT"],
    ['ops=x', "--weights: 'ops=x': the weight must be a positive number"],
    ['ops=-1', "--weights: 'ops=-1': the weight must be a positive number"],
    ['ops=0', "--weights: 'ops=0': the weight must be a positive number"],
    ['a b=1', "--weights: 'a b=1': 'a b' is not a valid role name"],
    ['ops=1,ops=2', "--weights: role 'ops' is given twice"],
  ])('rejects %s', (value, message) => {
    expect(() => parseWeights(value)).toThrow(message);
  });
});

describe('--quota', () => {
  it('parses ROLE:GUARANTEE[/LIMIT],... with a limit alone as ROLE:/LIMIT', () => {
    expect(text(parseQuota('ops:cpus:4;mem:1024/cpus:8,dev:cpus:1,batch:/cpus:16'))).toEqual({
      ops: 'cpus:4;mem:1024/cpus:8',
      dev: 'cpus:1/',
      batch: '/cpus:16',
    });
  });

  it("parses Mesos's QuotaConfig JSON, inline or from a .json file", () => {
    const json = '[{"role":"ops","guarantees":{"cpus":4,"mem":1024},"limits":{"cpus":8}},{"role":"dev","limits":{"mem":512}}]';
    expect(text(parseQuota(json))).toEqual({ ops: 'cpus:4;mem:1024/cpus:8', dev: '/mem:512' });
    const file = join(mkdtempSync(join(tmpdir(), 'quota-')), 'quota.json');
    writeFileSync(file, json);
    expect(text(parseQuota(file))).toEqual({ ops: 'cpus:4;mem:1024/cpus:8', dev: '/mem:512' });
  });

  it.each([
    ['ops', "--quota: 'ops' is not ROLE:GUARANTEE[/LIMIT]"],
    ['ops:cpus:x', "--quota: 'ops:cpus:x': bad resource 'cpus:x': 'x' is not a number"],
    ['ops:ports:[1-5]', "--quota: 'ops:ports:[1-5]': 'ports' is not a scalar resource"],
    ['ops:cpus(ops):1', "--quota: 'ops:cpus(ops):1': 'cpus(ops)' must be unreserved"],
    ['ops:cpus:4/cpus:2', "--quota: 'ops:cpus:4/cpus:2': the guarantee of cpus (4) is above its limit (2)"],
    ['ops:cpus:1/cpus:2/cpus:3', "--quota: 'ops:cpus:1/cpus:2/cpus:3' has more than one '/'"],
    ['*:cpus:1', "--quota: '*:cpus:1': quota cannot be set for role '*'"],
    ['ops:/', "--quota: 'ops:/' gives neither a guarantee nor a limit"],
    ['ops:cpus:1,ops:cpus:2', "--quota: role 'ops' is given twice"],
    ['[{"role":"ops","guarantee":{"cpus":1}}]', "--quota: the value[0]: unknown field 'guarantee' (role, guarantees, limits)"],
    ['[{"role":"ops","guarantees":{"cpus":"1"}}]', '--quota: the value[0].guarantees.cpus must be a non-negative number, got "1"'],
    ['[{"guarantees":{}}]', '--quota: the value[0].role must be a non-empty string'],
    ['[{', '--quota: the value is not valid JSON'],
    ['/no/such/quota.json', '--quota: cannot read /no/such/quota.json'],
  ])('rejects %s', (value, message) => {
    expect(() => parseQuota(value)).toThrow(message);
  });
});

describe('--min_allocatable_resources', () => {
  it("parses Mesos's alternatives separated by |", () => {
    expect(parseMinAllocatable('cpus:0.01|mem:32').map(String)).toEqual(['cpus:0.01', 'mem:32']);
    expect(parseMinAllocatable('cpus:1;mem:128').map(String)).toEqual(['cpus:1;mem:128']);
  });

  it('rejects bad bundles, naming the flag', () => {
    expect(() => parseMinAllocatable('cpus:1|')).toThrow("--min_allocatable_resources: '' is empty");
    expect(() => parseMinAllocatable('ports:[1-2]')).toThrow("--min_allocatable_resources: 'ports:[1-2]': 'ports' is not a scalar resource");
  });
});

describe('allocatorOptions (the master flags together)', () => {
  it('builds AllocatorOptions from what is set', () => {
    const options = allocatorOptions({ weights: 'ops=2', quota: 'ops:cpus:1', min_allocatable_resources: 'cpus:1' });
    expect(options.weights?.get('ops')).toBe(2);
    expect(options.quotas?.get('ops')?.guarantee?.toString()).toBe('cpus:1');
    expect(options.minAllocatable?.map(String)).toEqual(['cpus:1']);
    expect(allocatorOptions({ weights: undefined, quota: undefined, min_allocatable_resources: '' })).toEqual({});
  });
});

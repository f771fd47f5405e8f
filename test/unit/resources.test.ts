import { describe, expect, it } from 'vitest';
import { Resources, ScalarTotals, subtractRanges, takeFromRanges, unionRanges } from '../../common/resources.js';
import { InvalidArgument } from '../../common/errors.js';

describe('Resources.parse', () => {
  it('reads Mesos resource text', () => {
    const r = Resources.parse('cpus:2;mem:1024;disk:4096;ports:[31000-32000]');
    expect(r.scalar('cpus')).toBe(2);
    expect(r.scalar('mem')).toBe(1024);
    expect(r.ranges('ports')).toEqual([[31000, 32000]]);
    expect(r.toString()).toBe('cpus:2;disk:4096;mem:1024;ports:[31000-32000]');
  });

  it('keeps roles apart', () => {
    const r = Resources.parse('cpus:2;cpus(analytics):4');
    expect(r.scalar('cpus')).toBe(6);
    expect(r.scalar('cpus', '*')).toBe(2);
    expect(r.scalar('cpus', 'analytics')).toBe(4);
  });

  it('reads sets and coalesces ranges', () => {
    const r = Resources.parse('disks:{a,b};ports:[5-9,1-4,20-20]');
    expect(r.ranges('ports')).toEqual([[1, 9], [20, 20]]);
    expect(r.list().find((e) => e.name === 'disks')?.value).toEqual({ kind: 'set', items: new Set(['a', 'b']) });
  });

  it.each([
    ['cpus', "bad resource 'cpus'"],
    ['cpus:two', "'two' is not a number"],
    ['cpus:-1', 'negative value'],
    ['ports:[10-5]', 'ends before it begins'],
    ['ports:[a-b]', "range 'a-b'"],
    ['cpus:1;mem:[1-2];mem:3', "resource 'mem' is given both as ranges and as scalar"],
  ])('rejects %s naming the problem', (text, message) => {
    expect(() => Resources.parse(text)).toThrow(InvalidArgument);
    expect(() => Resources.parse(text)).toThrow(message);
  });
});

describe('Resources arithmetic', () => {
  const agent = Resources.parse('cpus:4;mem:2048;ports:[31000-31009]');

  it('adds and subtracts scalars in fixed point', () => {
    const a = Resources.parse('cpus:0.1');
    const b = Resources.parse('cpus:0.2');
    expect(a.add(b).scalar('cpus')).toBe(0.3);
    expect(a.add(b).subtract(Resources.parse('cpus:0.3')).isEmpty()).toBe(true);
  });

  it('subtracts ranges, splitting them', () => {
    const left = agent.subtract(Resources.parse('ports:[31003-31004]'));
    expect(left.ranges('ports')).toEqual([[31000, 31002], [31005, 31009]]);
  });

  it('contains only what fits, per role', () => {
    expect(agent.contains(Resources.parse('cpus:4;mem:2048'))).toBe(true);
    expect(agent.contains(Resources.parse('cpus:4.001'))).toBe(false);
    expect(agent.contains(Resources.parse('ports:[31009-31010]'))).toBe(false);
    expect(agent.contains(Resources.parse('cpus(analytics):1'))).toBe(false);
  });

  it('refuses to subtract what is not there', () => {
    expect(() => agent.subtract(Resources.parse('gpus:1'))).toThrow('not contained');
  });

  it('round-trips through protobuf messages', () => {
    const r = Resources.parse('cpus:1.5;mem:64;ports:[1-3];cpus(web):2');
    expect(Resources.fromProto(r.toProto()).equals(r)).toBe(true);
  });

  it('rejects malformed protobuf resources with the field path', () => {
    expect(() => Resources.fromProto([{ name: 'cpus', type: 'SCALAR', scalar: { value: -1 } }], 'task.resources')).toThrow(
      "task.resources[0] ('cpus')",
    );
    expect(() => Resources.fromProto([{ type: 'SCALAR', scalar: { value: 1 } }])).toThrow('resources[0].name is missing');
  });
});

describe('ranges', () => {
  it('unions, subtracts and takes', () => {
    expect(unionRanges([[1, 3]], [[4, 6], [10, 12]])).toEqual([[1, 6], [10, 12]]);
    expect(subtractRanges([[1, 10]], [[1, 1], [5, 6], [10, 10]])).toEqual([[2, 4], [7, 9]]);
    expect(takeFromRanges([[1, 2], [10, 20]], 3)).toEqual([[1, 2], [10, 10]]);
    expect(takeFromRanges([[1, 2]], 3)).toEqual([]);
  });
});

describe('Resources.sum', () => {
  it('equals adding one by one', () => {
    const list = [Resources.parse('cpus:0.1;ports:[1-2]'), Resources.parse('cpus:0.2;mem(a):5'), Resources.EMPTY, Resources.parse('ports:[3-4];disks:{x}')];
    expect(Resources.sum(list).toString()).toBe(list.reduce((a, b) => a.add(b), Resources.EMPTY).toString());
    expect(Resources.sum(list).toString()).toBe('cpus:0.3;disks:{x};mem(a):5;ports:[1-4]');
    expect(Resources.sum([]).isEmpty()).toBe(true);
  });

  it('equals adding one by one over many values: every kind, several roles, the same key many times, entries in order', () => {
    const texts = ['cpus:0.1;mem:32', 'cpus:0.7;ports:[5-9,1-2]', 'cpus(a):1.333;disks:{y,x}', 'disks:{x,z};mem:0.001', 'ports:[3-4];cpus:0.2', 'gpus:1;disks(a):{q}'];
    const list = Array.from({ length: 60 }, (_, i) => Resources.parse(texts[(i * 7) % texts.length]!));
    const one = list.reduce((a, b) => a.add(b), Resources.EMPTY);
    const sum = Resources.sum(list);
    expect(sum.list()).toEqual(one.list());
    expect(sum.toString()).toBe(one.toString());
    expect([...sum.each()]).toEqual(sum.list());
    const single = Resources.parse('cpus:2');
    expect(Resources.sum([single]).list()[0]).toBe(single.list()[0]); // Nothing added: the entry itself.
  });

  it('refuses a name given as two kinds, as add does', () => {
    const list = [Resources.parse('x:1'), Resources.parse('x:[1-2]')];
    expect(() => list[0]!.add(list[1]!)).toThrow("resource 'x' is given both as scalar and as ranges");
    expect(() => Resources.sum(list)).toThrow("resource 'x' is given both as scalar and as ranges");
  });
});

describe('ScalarTotals', () => {
  it('sums the named scalars over every role as Resources.sum does, rounded the same way', () => {
    const list = Array.from({ length: 1000 }, (_, i) => Resources.parse(i % 2 ? 'cpus:0.1;mem:32.5;ports:[1-2]' : 'cpus(a):0.1;mem:0.001;disk:3'));
    const totals = new ScalarTotals(['cpus', 'mem', 'disk', 'gpus']);
    for (const r of list) totals.add(r);
    const sum = Resources.sum(list);
    for (const name of ['cpus', 'mem', 'disk', 'gpus']) expect(totals.get(name)).toBe(sum.scalar(name));
    expect(totals.get('cpus')).toBe(100);
    expect(totals.get('ports')).toBe(0); // Not a name it sums.
  });
});

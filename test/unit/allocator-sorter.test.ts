// Sorters: one contract suite run against every sorter, then what is
// particular to DRF (shares, with the expected share beside each line) and
// to random (seeded, weighted).
import { describe, expect, it } from 'vitest';
import { Resources } from '../../common/resources.js';
import { seededRandom } from '../../master/allocator/hierarchical.js';
import { DrfSorter } from '../../master/allocator/sorter/drf.js';
import { FifoSorter } from '../../master/allocator/sorter/fifo.js';
import { RandomSorter } from '../../master/allocator/sorter/random.js';
import type { SorterFactory } from '../../master/allocator/sorter/sorter.js';

const R = (text: string) => Resources.parse(text);

const SORTERS: [string, SorterFactory][] = [
  ['drf', () => new DrfSorter()],
  ['random', (random) => new RandomSorter(random)],
  ['fifo', () => new FifoSorter()],
];

describe.each(SORTERS)('%s sorter contract', (_name, make) => {
  it('lists every client exactly once, whatever it holds', () => {
    const s = make(seededRandom(1));
    s.setTotal(R('cpus:10;mem:100'));
    for (const c of ['c', 'a', 'b']) s.add(c);
    s.allocated('b', R('cpus:3'));
    expect([...s.sort()].sort()).toEqual(['a', 'b', 'c']);
    s.remove('b');
    s.remove('missing'); // not an error
    expect([...s.sort()].sort()).toEqual(['a', 'c']);
    expect(s.has('b')).toBe(false);
  });

  it('ignores allocations to unknown clients', () => {
    const s = make(seededRandom(1));
    s.setTotal(R('cpus:10'));
    s.allocated('ghost', R('cpus:1'));
    s.unallocated('ghost', R('cpus:1'));
    expect(s.sort()).toEqual([]);
  });

  it('gives the same order for the same seed and history', () => {
    const run = () => {
      const s = make(seededRandom(3));
      s.setTotal(R('cpus:10'));
      for (let i = 0; i < 8; i++) s.add(`c${i}`);
      s.allocated('c2', R('cpus:1'));
      return [s.sort().join(), s.sort().join()];
    };
    expect(run()).toEqual(run());
  });
});

describe('DRF sorter', () => {
  it('orders by dominant share divided by weight, ties by name', () => {
    const s = new DrfSorter();
    s.setTotal(R('cpus:10;mem:100'));
    s.add('a');
    s.add('b');
    s.add('c', 2);
    expect(s.sort()).toEqual(['a', 'b', 'c']); // all 0: by name
    s.allocated('a', R('cpus:5;mem:10')); // a: max(5/10, 10/100) = 0.5
    s.allocated('b', R('cpus:1;mem:30')); // b: max(0.1, 0.3) = 0.3
    s.allocated('c', R('cpus:8')); // c: 0.8 / weight 2 = 0.4
    expect(s.sort()).toEqual(['b', 'c', 'a']);
    s.unallocated('a', R('cpus:5;mem:10')); // a: 0
    expect(s.sort()).toEqual(['a', 'b', 'c']);
    expect(s.share('c')).toBeCloseTo(0.4);
  });

  it('moves a client when its weight changes', () => {
    const s = new DrfSorter();
    s.setTotal(R('cpus:10'));
    s.add('a');
    s.add('b');
    s.allocated('a', R('cpus:4')); // a: 0.4
    s.allocated('b', R('cpus:3')); // b: 0.3
    expect(s.sort()).toEqual(['b', 'a']);
    s.updateWeight('a', 2); // a: 0.4 / 2 = 0.2
    expect(s.sort()).toEqual(['a', 'b']);
    expect(s.share('a')).toBeCloseTo(0.2);
    s.updateWeight('ghost', 3); // not an error
  });

  it('skips resources the cluster has none of, and ignores ports', () => {
    const s = new DrfSorter();
    s.setTotal(R('cpus:10;mem:100')); // no disk, no gpus
    s.add('a');
    s.allocated('a', R('cpus:1;disk:50;gpus:1;ports:[1-10]'));
    expect(s.share('a')).toBeCloseTo(0.1); // cpus only: 1/10
  });

  it('recomputes every share when the total changes', () => {
    const s = new DrfSorter();
    s.setTotal(R('cpus:10;mem:100'));
    s.add('cpu-heavy');
    s.add('mem-heavy');
    s.allocated('cpu-heavy', R('cpus:4')); // 0.4
    s.allocated('mem-heavy', R('mem:30')); // 0.3
    expect(s.sort()).toEqual(['mem-heavy', 'cpu-heavy']);
    s.setTotal(R('cpus:20;mem:100')); // cpu-heavy: 4/20 = 0.2; mem-heavy: 0.3
    expect(s.sort()).toEqual(['cpu-heavy', 'mem-heavy']);
    s.add('new'); // 0, added while shares were stale
    s.allocated('mem-heavy', R('mem:1')); // 0.31
    expect(s.sort()).toEqual(['new', 'cpu-heavy', 'mem-heavy']);
  });

  it('drives the DRF paper example to 3 tasks for A and 2 for B', () => {
    // Total <9 cpus, 18 GB>; A's tasks <1 cpu, 4 GB>, B's <3 cpus, 1 GB>.
    const s = new DrfSorter();
    s.setTotal(R('cpus:9;mem:18432'));
    s.add('A');
    s.add('B');
    const task = { A: R('cpus:1;mem:4096'), B: R('cpus:3;mem:1024') };
    let free = R('cpus:9;mem:18432');
    const tasks = { A: 0, B: 0 };
    for (;;) {
      const next = s.sort().find((c) => free.contains(task[c as 'A' | 'B'])) as 'A' | 'B' | undefined;
      if (!next) break;
      free = free.subtract(task[next]);
      s.allocated(next, task[next]);
      tasks[next]++;
    }
    expect(tasks).toEqual({ A: 3, B: 2 });
    expect(s.share('A')).toBeCloseTo(2 / 3); // 12 GB of 18
    expect(s.share('B')).toBeCloseTo(2 / 3); // 6 cpus of 9
  });
});

describe('fifo sorter', () => {
  it('keeps the order clients were added in, whatever they hold; a client added again goes last', () => {
    const s = new FifoSorter();
    for (const c of ['z', 'a', 'm']) s.add(c);
    s.allocated('z', R('cpus:100'));
    expect(s.sort()).toEqual(['z', 'a', 'm']);
    s.remove('z');
    s.add('z');
    expect(s.sort()).toEqual(['a', 'm', 'z']);
  });
});

describe('random sorter', () => {
  it('puts a heavier client first more often', () => {
    const s = new RandomSorter(seededRandom(5));
    s.add('light');
    s.add('heavy', 4);
    let heavyFirst = 0;
    for (let i = 0; i < 1000; i++) if (s.sort()[0] === 'heavy') heavyFirst++;
    expect(heavyFirst).toBeGreaterThan(700); // 4/5 = 800 expected
    expect(heavyFirst).toBeLessThan(900);
  });
});

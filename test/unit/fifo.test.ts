// The Fifo against a plain array as the model: any sequence of pushes,
// shifts, peeks and drains gives the same items in the same order, across
// the compaction point (1,024 consumed slots) and past it.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Fifo } from '../../common/fifo.js';

type Step = { op: 'push'; n: number } | { op: 'shift'; n: number } | { op: 'drain' };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ op: fc.constant('push' as const), n: fc.integer({ min: 1, max: 1500 }) }) },
  { weight: 5, arbitrary: fc.record({ op: fc.constant('shift' as const), n: fc.integer({ min: 1, max: 1500 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('drain' as const) }) },
);

describe('Fifo', () => {
  it('gives what an array would, in order, whatever the pushes and shifts', () => {
    fc.assert(fc.property(fc.array(step, { maxLength: 16 }), (steps) => {
      const fifo = new Fifo<number>();
      const model: number[] = [];
      let head = 0; // The model's head: model.shift() would itself be quadratic here.
      let next = 0;
      for (const s of steps) {
        if (s.op === 'push') {
          for (let i = 0; i < s.n; i++) {
            fifo.push(next);
            model.push(next++);
          }
        } else if (s.op === 'shift') {
          for (let i = 0; i < s.n; i++) {
            expect(fifo.peek()).toBe(model[head]);
            expect(fifo.shift()).toBe(model[head]);
            if (head < model.length) head++;
          }
        } else {
          expect(fifo.drain()).toEqual(model.splice(0).slice(head));
          head = 0;
        }
        expect(fifo.length).toBe(model.length - head);
        expect([...fifo]).toEqual(model.slice(head));
      }
    }), { numRuns: 60 });
  });

  it('is empty after its last item is taken, and takes new ones', () => {
    const fifo = new Fifo<string>();
    expect(fifo.shift()).toBeUndefined();
    fifo.push('a');
    expect(fifo.shift()).toBe('a');
    expect(fifo.length).toBe(0);
    expect(fifo.peek()).toBeUndefined();
    fifo.push('b');
    expect([...fifo]).toEqual(['b']);
  });
});

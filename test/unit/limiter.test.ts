// common/limiter.ts: never more than `limit` calls at once, the waiting ones
// in arrival order, a failing call freeing its place, a waiting call whose
// signal aborts leaving the queue unstarted. Calls are held open by
// promises the test resolves itself; no timers.
import { describe, expect, it } from 'vitest';
import { Limiter } from '../../common/limiter.js';

function held() {
  let release!: () => void;
  let fail!: (err: Error) => void;
  const promise = new Promise<void>((resolve, reject) => ((release = resolve), (fail = reject)));
  return { promise, release, fail };
}
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('Limiter', () => {
  it('runs at most `limit` calls at once and starts the waiting ones in arrival order', async () => {
    const limiter = new Limiter(2);
    const calls = [held(), held(), held(), held()];
    const started: number[] = [];
    let running = 0;
    let most = 0;
    const all = calls.map((c, i) => limiter.run(async () => {
      started.push(i);
      most = Math.max(most, ++running);
      await c.promise;
      running--;
    }));
    await turn();
    expect(started).toEqual([0, 1]);
    calls[1]!.release();
    await turn();
    expect(started).toEqual([0, 1, 2]);
    calls[0]!.release();
    calls[2]!.release();
    calls[3]!.release();
    await Promise.all(all);
    expect(started).toEqual([0, 1, 2, 3]);
    expect(most).toBe(2);
  });

  it('frees the place of a call that fails, and passes its error on', async () => {
    const limiter = new Limiter(1);
    const first = held();
    const a = limiter.run(() => first.promise);
    const b = limiter.run(async () => 'second');
    first.fail(new Error('boom'));
    await expect(a).rejects.toThrow('boom');
    await expect(b).resolves.toBe('second');
  });

  it('drops a waiting call whose signal aborts: rejected with the reason, never started, its turn passed on', async () => {
    const limiter = new Limiter(1);
    const first = held();
    const started: string[] = [];
    const a = limiter.run(async () => { started.push('a'); await first.promise; });
    const abort = new AbortController();
    const b = limiter.run(async () => { started.push('b'); }, abort.signal);
    const c = limiter.run(async () => { started.push('c'); });
    await turn();
    expect(limiter.queued).toBe(2);
    abort.abort(new Error('task killed during launch'));
    await expect(b).rejects.toThrow('task killed during launch');
    expect(limiter.queued).toBe(1);
    first.release();
    await Promise.all([a, c]);
    expect(started).toEqual(['a', 'c']);
    expect(limiter.queued).toBe(0);
  });

  it('does not start a call whose signal aborted already, and keeps its place for others', async () => {
    const limiter = new Limiter(1);
    const started: string[] = [];
    await expect(limiter.run(async () => { started.push('late'); }, AbortSignal.abort(new Error('gone')))).rejects.toThrow('gone');
    await limiter.run(async () => { started.push('next'); });
    expect(started).toEqual(['next']);
  });

  it('leaves a started call alone when its signal aborts later (the work itself decides)', async () => {
    const limiter = new Limiter(1);
    const first = held();
    const abort = new AbortController();
    const a = limiter.run(() => first.promise.then(() => 'done'), abort.signal);
    await turn();
    abort.abort(new Error('late kill'));
    first.release();
    await expect(a).resolves.toBe('done');
    await expect(limiter.run(async () => 'free again')).resolves.toBe('free again');
  });

  it('refuses a limit below 1', () => {
    expect(() => new Limiter(0)).toThrow('a limiter needs a limit of at least 1, got 0');
  });
});

import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { writeWaitingTogether } from '../../common/grpc-batched-writes.js';

/** An object-mode Writable like grpc-js's server streams: each write completes a turn later. */
function slowSink(fail?: number) {
  const started: number[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const stream = new Writable({
    objectMode: true,
    write(chunk: number, _encoding, callback) {
      started.push(chunk);
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      setImmediate(() => {
        inFlight--;
        callback(chunk === fail ? new Error(`cannot write ${chunk}`) : null);
      });
    },
  });
  return { stream, started, maxInFlight: () => maxInFlight };
}

describe('writeWaitingTogether', () => {
  it('hands everything that waited to _write at once, in order', async () => {
    const sink = slowSink();
    writeWaitingTogether(sink.stream);
    for (let i = 0; i < 40; i++) sink.stream.write(i);
    await new Promise<void>((resolve) => sink.stream.end(resolve));
    expect(sink.started).toEqual(Array.from({ length: 40 }, (_, i) => i));
    // The first write alone, then the 39 that waited behind it together.
    expect(sink.maxInFlight()).toBe(39);
  });

  it('without it, one message at a time', async () => {
    const sink = slowSink();
    for (let i = 0; i < 40; i++) sink.stream.write(i);
    await new Promise<void>((resolve) => sink.stream.end(resolve));
    expect(sink.maxInFlight()).toBe(1);
  });

  it('fails the batch with the first error', async () => {
    const sink = slowSink(7);
    writeWaitingTogether(sink.stream);
    const failed = new Promise<Error>((resolve) => sink.stream.once('error', resolve));
    for (let i = 0; i < 20; i++) sink.stream.write(i);
    expect((await failed).message).toBe('cannot write 7');
  });
});

// grpc-js's server streams are object-mode Writables without `_writev`: each
// message is handed to HTTP/2 only once the one before it has been written
// to the socket, one socket write (one turn of the event loop, or more on a
// busy master) per message. A scheduler's event stream therefore carried at
// most one event per turn however many waited, and 16 RunTasks to one agent
// took 16 turns. With `_writev`, what waited behind a write goes to HTTP/2
// at once, in order, and Node writes it to the socket together.
//
// A client stream (the agent's link to the master) is the same once the
// channel runs without retries: grpc-js's retrying call keeps the messages
// itself and hands its HTTP/2 stream the next one only when the one before
// it was written, whatever the Writable does. In a burst of 100 launches
// an agent's TASK_STARTING and TASK_RUNNING reached the master 0.4 to 1.4 s
// after the agent sent them (bench/launch.ts's burst trace).
import type { Writable } from 'node:stream';

type WriteCallback = (error?: Error | null) => void;
interface WritableInternals {
  _write(chunk: unknown, encoding: BufferEncoding, callback: WriteCallback): void;
  _writev?: (chunks: { chunk: unknown; encoding: BufferEncoding }[], callback: WriteCallback) => void;
}

/**
 * Lets `stream` pass every message that waited to its `_write` in one go.
 * The messages keep their order (each `_write` hands its message to HTTP/2
 * before the next starts) and the batch is done when all are: the first
 * error, if any, is its error.
 */
export function writeWaitingTogether(stream: Writable): void {
  const w = stream as unknown as WritableInternals;
  w._writev = (chunks, callback) => {
    let left = chunks.length;
    let failure: Error | null = null;
    const done: WriteCallback = (error) => {
      failure ??= error ?? null;
      if (--left === 0) callback(failure);
    };
    for (const { chunk, encoding } of chunks) w._write.call(stream, chunk, encoding, done);
  };
}

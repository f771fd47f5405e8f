// RecordIO as Mesos frames its streams (docs/recordio.md in apache/mesos):
// a decimal length in bytes, a line feed, then that many bytes; here each
// record is one JSON event. Works on bytes, since lengths count bytes.

/** Yields the parsed JSON records of a fetch() body until it ends. */
export async function* recordIo(body, signal) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = new Uint8Array(0);
  const onAbort = () => void reader.cancel().catch(() => {});
  signal?.addEventListener('abort', onAbort);
  try {
    for (;;) {
      const record = takeRecord(buffer);
      if (record) {
        buffer = record.rest;
        yield JSON.parse(decoder.decode(record.bytes));
        continue;
      }
      const { value, done } = await reader.read();
      if (done) return;
      buffer = concat(buffer, value);
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    reader.releaseLock();
  }
}

/** The first whole record of `buffer` and what follows it, or null while it is incomplete. */
export function takeRecord(buffer) {
  const lf = buffer.indexOf(10);
  if (lf < 0) {
    if (buffer.length > 20) throw new Error('RecordIO: no record length in the first 20 bytes');
    return null;
  }
  const header = new TextDecoder().decode(buffer.subarray(0, lf));
  if (!/^\d+$/.test(header)) throw new Error(`RecordIO: bad record length ${JSON.stringify(header)}`);
  const length = Number(header);
  if (buffer.length < lf + 1 + length) return null;
  return { bytes: buffer.subarray(lf + 1, lf + 1 + length), rest: buffer.subarray(lf + 1 + length) };
}

function concat(a, b) {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

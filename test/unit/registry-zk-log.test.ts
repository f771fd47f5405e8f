// The registry log's naming and the leader's counter (master/registry/zk-log.ts):
// consecutive entries, trimmed to the newest LOG_KEEP a few per multi, and
// a counter that moves only once its multi is in.
import { describe, expect, it } from 'vitest';
import { decodeEntry, encodeEntry, entryName, entryNumbers, LOG_KEEP, LogWriter } from '../../master/registry/zk-log.js';
import type { RegistryKey } from '../../master/registry/registry.js';

const DIR = '/m/registry/log';
const paths = (ops: readonly { op: string; path: string }[], op: string) => ops.filter((o) => o.op === op).map((o) => o.path.slice(DIR.length + 1));

describe('the registry log', () => {
  it('names entries with 12 digits and lists them in order, ignoring other names', () => {
    expect(entryName(7)).toBe('000000000007');
    expect(entryNumbers(['000000000010', 'stray', '000000000002', '12', '0000000000x1'])).toEqual([2, 10]);
  });

  it('encodes the keys of a multi once each, and refuses an entry it did not write', () => {
    const keys: RegistryKey[] = ['agents/a1', 'tasks/a1/0', 'agents/a1', 'settings/quota'];
    expect(decodeEntry(encodeEntry(keys))).toEqual(['agents/a1', 'tasks/a1/0', 'settings/quota']);
    expect(() => decodeEntry(Buffer.from('{"keys":["nodes/x"]}'))).toThrow(/registry keys/);
    expect(() => decodeEntry(Buffer.from('[]'))).toThrow(/registry keys/);
  });

  it('starts at entry 1 on an empty log and continues after the highest entry a predecessor left', () => {
    expect(paths(LogWriter.after(DIR, []).ops(['agents/a']).ops, 'create')).toEqual(['000000000001']);
    expect(paths(LogWriter.after(DIR, [40, 41, 42]).ops(['agents/a']).ops, 'create')).toEqual(['000000000043']);
  });

  it('moves on only once the multi is committed: a failed one leaves the next entry where it was', () => {
    const log = LogWriter.after(DIR, [5]);
    log.ops(['agents/a']); // Not committed.
    const second = log.ops(['agents/b']);
    expect(paths(second.ops, 'create')).toEqual(['000000000006']);
    second.commit();
    expect(paths(log.ops(['agents/c']).ops, 'create')).toEqual(['000000000007']);
  });

  it('trims to the newest LOG_KEEP entries, at most 8 removals a multi, oldest first', () => {
    const full = LogWriter.after(DIR, Array.from({ length: LOG_KEEP }, (_, i) => i + 1));
    // Entry 1001 makes 1,001: entry 1 goes in the same multi.
    expect(paths(full.ops(['agents/a']).ops, 'remove')).toEqual(['000000000001']);
    // A predecessor left 1,020 entries (1..1020): the next multi adds 1021 and removes 1..8 (21 are over).
    const long = LogWriter.after(DIR, Array.from({ length: LOG_KEEP + 20 }, (_, i) => i + 1));
    let step = long.ops(['agents/a']);
    expect(paths(step.ops, 'remove')).toEqual(['1', '2', '3', '4', '5', '6', '7', '8'].map((n) => entryName(Number(n))));
    step.commit();
    step = long.ops(['agents/a']); // 1022: removes 9..16.
    step.commit();
    step = long.ops(['agents/a']); // 1023: removes 17..23, which leaves 24..1023, the newest 1,000.
    expect(paths(step.ops, 'remove')).toEqual([17, 18, 19, 20, 21, 22, 23].map(entryName));
    step.commit();
    expect(paths(long.ops(['agents/a']).ops, 'remove')).toEqual([entryName(24)]);
  });
});

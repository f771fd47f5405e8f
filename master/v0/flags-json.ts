// The master's flags as Mesos's /master/flags and /master/state write them:
// every flag with a value, by name, as a string (flag.stringify). Durations
// are written as stout's Duration prints them ("15secs", "10mins", "2weeks").
import type { FlagSpecs } from '../../common/flags.js';
import { shownFlagValue } from '../../common/credentials.js';
import { redactText } from '../../common/log/redact.js';

/** stout's operator<<(Duration): the largest unit the duration reaches, its value in that unit. */
export function durationText(seconds: number): string {
  const units: readonly [string, number][] = [['weeks', 604800], ['days', 86400], ['hrs', 3600], ['mins', 60], ['secs', 1], ['ms', 1e-3], ['us', 1e-6]];
  for (const [name, size] of units) if (Math.abs(seconds) >= size) return `${Number((seconds / size).toPrecision(15))}${name}`;
  return `${Math.round(seconds * 1e9)}ns`;
}

export function flagsJson(specs: FlagSpecs, values: Readonly<Record<string, unknown>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, spec] of Object.entries(specs)) {
    const value = values[name];
    if (value === undefined || value === null) continue;
    // Credentials in a zk:// URL are ZooKeeper's secret: never served.
    out[name] = spec.type === 'duration' && typeof value === 'number' ? durationText(value) : shownFlagValue(name, redactText(String(value)));
  }
  return out;
}

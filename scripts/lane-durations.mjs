#!/usr/bin/env node
// Rewrites test/harness/lane-durations.json, the expected duration of each
// integration file that the test sequencer plans with, from the output of a
// whole run (`bash .ci/run > ci.log`, or `npm test > test.log`): the lines
// vitest prints per file, "✓ test/integration/x.test.ts (N tests) 1234ms".
//   node scripts/lane-durations.mjs ci.log
import { readFileSync, writeFileSync } from 'node:fs';

const [log] = process.argv.slice(2);
if (!log) { console.error('usage: node scripts/lane-durations.mjs LOG'); process.exit(2); }
const plain = readFileSync(log, 'utf8').replace(/\x1b\[[0-9;]*m/g, '');
const seconds = {};
for (const m of plain.matchAll(/^\s*[✓❯×]\s+(test\/integration\/\S+\.test\.ts) .*?(\d+(?:\.\d+)?)(ms|s)\s*$/gm)) {
  seconds[m[1]] = Math.max(1, Math.round(Number(m[2]) / (m[3] === 'ms' ? 1000 : 1)));
}
const out = new URL('../test/harness/lane-durations.json', import.meta.url);
const sorted = Object.fromEntries(Object.entries(seconds).sort(([a], [b]) => (a < b ? -1 : 1)));
writeFileSync(out, JSON.stringify(sorted, null, 1) + '\n');
console.log(`${Object.keys(sorted).length} files written to test/harness/lane-durations.json`);

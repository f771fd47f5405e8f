#!/usr/bin/env node
// Entry point of the `mesos-ts` command: runs the CLI that `npm run build`
// (scripts/build.mjs) compiled to dist/; plain JavaScript, no TypeScript loader.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write(`mesos-ts: ${fileURLToPath(entry)} is missing: run \`npm run build\` in ${fileURLToPath(new URL('..', import.meta.url))}\n`);
  process.exit(1);
}
const { main } = await import(entry.href);
await main(process.argv.slice(2));

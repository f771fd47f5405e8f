// Vitest setup file: an integration file waits here for its lane (lanes.ts)
// and gives it back after its last hook. The run is named by the parent
// process: vitest itself, which forks one worker per file.
import { afterAll, expect } from 'vitest';
import { acquireLane, laneOf } from './lanes.js';

const file = expect.getState().testPath ?? '';
const lane = laneOf(file);
if (lane) {
  const release = await acquireLane(lane, String(process.ppid));
  afterAll(release);
}

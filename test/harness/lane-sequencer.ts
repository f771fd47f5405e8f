// Orders the test files for the two workers (lanes.ts, plan()), with each
// file's expected duration from lane-durations.json (an earlier run's;
// `node scripts/lane-durations.mjs LOG` rewrites it from a whole run's
// output). A file not in it counts as DEFAULT_SECONDS, a unit file as
// UNIT_SECONDS.
import { readFileSync } from 'node:fs';
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { laneOf, plan } from './lanes.js';

const DEFAULT_SECONDS = 10;
const UNIT_SECONDS = 1;
const durations = JSON.parse(readFileSync(new URL('./lane-durations.json', import.meta.url), 'utf8')) as Record<string, number>;

export default class LaneSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const planned = files.map((spec) => {
      const lane = laneOf(spec.moduleId);
      const at = spec.moduleId.lastIndexOf('test/');
      const seconds = lane === null ? UNIT_SECONDS : (durations[spec.moduleId.slice(at)] ?? DEFAULT_SECONDS);
      return { spec, lane, seconds };
    });
    return plan(planned).map((p) => p.spec);
  }
}

import { defineConfig } from 'vitest/config';
import LaneSequencer from './test/harness/lane-sequencer.js';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Tests spawn bin/mesos-ts.js, which runs the compiled dist/: rebuilt here when stale.
    globalSetup: ['test/harness/build-dist.ts', 'test/harness/lane-run.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two files at once, never two of the same lane (test/harness/lanes.ts):
    // integration files mostly wait, so two at a time take far less than one,
    // and no two files that would contend for the same ports overlap.
    maxWorkers: 2,
    setupFiles: ['test/harness/lane-setup.ts'],
    sequence: { sequencer: LaneSequencer },
    reporters: process.env.CI ? ['default', ['json', { outputFile: 'test-results.json' }]] : ['default'],
  },
});

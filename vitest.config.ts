import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Tests spawn bin/mesos-ts.js, which runs the compiled dist/: rebuilt here when stale.
    globalSetup: ['test/harness/build-dist.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests share one Docker engine and two cores: run files one
    // at a time so their timings stay meaningful.
    fileParallelism: false,
    reporters: process.env.CI ? ['default', ['json', { outputFile: 'test-results.json' }]] : ['default'],
  },
});

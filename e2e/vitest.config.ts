import { defineProject } from 'vitest/config';

// Paths are relative to e2e/, this project's root.
// Browser tests: the real server (npx tsx server/main.ts) serving the built web app, driven by
// Debian's Chromium through playwright-core. One fork, files one after another.
export default defineProject({
  test: {
    name: 'e2e',
    environment: 'node',
    include: ['**/*.e2e.test.ts'],
    globalSetup: ['global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    pool: 'forks',
    fileParallelism: false,
    maxWorkers: 1,
    sequence: { concurrent: false },
  },
});

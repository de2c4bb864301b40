import { defineConfig } from 'vitest/config';

// Two projects: node-side code (unit + integration) and the web app (its own config).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'node',
          environment: 'node',
          include: ['{server,crypto,sandbox,integrations,migrations,bench,contract}/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          pool: 'forks',
        },
      },
      'web/vitest.config.ts',
      'e2e/vitest.config.ts',
    ],
  },
});

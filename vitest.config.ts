import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // One real PostgreSQL for the whole suite; tests take their own databases in it.
    globalSetup: ['test/setup/global-postgres.ts'],
  },
});

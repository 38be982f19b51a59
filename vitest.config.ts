import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Tests run the sources: `import … from 'pipekit'` in block files gets src/index.ts (the
  // package's `pipekit-source` condition), never the compiled dist/.
  resolve: { alias: [{ find: /^pipekit$/, replacement: fileURLToPath(new URL('./src/index.ts', import.meta.url)) }] },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // picocolors colours output whenever CI is set, so CLI output asserted by tests would carry
    // escape codes in CI alone; child processes inherit this.
    env: { NO_COLOR: '1' },
    // One real PostgreSQL for the whole suite; tests take their own databases in it.
    globalSetup: ['test/setup/global-postgres.ts'],
  },
});

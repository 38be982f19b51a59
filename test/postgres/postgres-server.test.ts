import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { ensurePostgresRunning, postgresStatus, stopPostgres } from '../../src/services/postgres-server.ts';

const run = promisify(execFile);
const repo = resolve(import.meta.dirname, '../..');
const root = mkdtempSync(join(tmpdir(), 'pipekit-dev-pg-'));

afterAll(async () => {
  await stopPostgres(root).catch(() => {});
  rmSync(root, { recursive: true, force: true });
});

function freePort(): Promise<number> {
  return new Promise((done) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}

describe("the project's embedded PostgreSQL", () => {
  it('starts from a short-lived process, survives it, is idempotent, and stops', async () => {
    const port = await freePort();
    expect(postgresStatus(root)).toEqual({ running: false, dataDir: join(root, '.pipekit', 'postgres') });

    // A separate Node process starts it and exits.
    const { stdout } = await run(
      process.execPath,
      [join(repo, 'bin/run-ts.js'), 'test/postgres/start-embedded.fixture.ts', root, String(port)],
      { cwd: repo },
    );
    const first = JSON.parse(stdout.trim().split('\n').at(-1)!);
    expect(first).toMatchObject({ running: true, started: true, port });
    expect(first.message).toMatch(/pipekit dev stop/);

    // Still running after that process is gone, with the database created.
    const status = postgresStatus(root);
    expect(status).toMatchObject({ running: true, port, pid: first.pid });
    const client = new pg.Client({ host: '127.0.0.1', port, user: 'pipekit', password: 'secret', database: 'ny_taxi' });
    await client.connect();
    expect((await client.query('SELECT current_database() AS db')).rows).toEqual([{ db: 'ny_taxi' }]);
    await client.end();

    // Idempotent: a second call finds it, and creates another database when asked.
    const again = await ensurePostgresRunning({ root, port, user: 'pipekit', password: 'secret', database: 'other' });
    expect(again).toMatchObject({ started: false, pid: first.pid });

    expect(await stopPostgres(root)).toBe(true);
    expect(postgresStatus(root).running).toBe(false);
    expect(await stopPostgres(root)).toBe(false);

    // Restarts on the existing data.
    const restarted = await ensurePostgresRunning({ root, port, user: 'pipekit', password: 'secret', database: 'ny_taxi' });
    expect(restarted.started).toBe(true);
    expect(await stopPostgres(root)).toBe(true);
  });
});

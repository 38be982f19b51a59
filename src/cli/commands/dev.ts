import type { Command } from 'commander';
import pc from 'picocolors';
import { loadIoProfile } from '../../config/io-config.ts';
import type { IoProfile } from '../../config/io-profile.ts';
import { ensureProfilePostgres } from '../../io/connectors.ts';
import { connectorSettings } from '../../io/settings/index.ts';
import { loadProject } from '../../project/load-project.ts';
import type { PostgresStatus } from '../../services/postgres-server.ts';
import { findProjectRoot } from '../project-root.ts';
import { globalOptions } from '../session-command.ts';

/** The local profile's embedded services (today: PostgreSQL in <project>/.pipekit/postgres). */
export function registerDev(program: Command): void {
  const dev = program.command('dev').description("start, stop or inspect the local profile's embedded PostgreSQL");
  dev
    .command('start')
    .description('start the embedded PostgreSQL (runs and exports start it on demand too)')
    .option('--json', 'print JSON')
    .action(async (flags: { json?: boolean }, command: Command) => {
      const { project, profile } = await context(command);
      if (!embedded(profile)) return;
      const { postgres, runStore } = connectorSettings(profile);
      await ensureProfilePostgres(profile);
      if (runStore.database !== postgres.database) await ensureProfilePostgres(profile, runStore.database);
      const { postgresStatus } = await import('../../services/postgres-server.ts');
      print(postgresStatus(project.root), profile, flags.json);
    });
  dev
    .command('stop')
    .description('stop the embedded PostgreSQL')
    .action(async (_f: unknown, command: Command) => {
      const { project } = await context(command);
      const { stopPostgres } = await import('../../services/postgres-server.ts');
      const stopped = await stopPostgres(project.root);
      process.stdout.write(stopped ? 'embedded PostgreSQL stopped\n' : 'embedded PostgreSQL was not running: nothing to stop\n');
    });
  dev
    .command('status')
    .description('is the embedded PostgreSQL running, where, on which port')
    .option('--json', 'print JSON')
    .action(async (flags: { json?: boolean }, command: Command) => {
      const { project, profile } = await context(command);
      const { postgresStatus } = await import('../../services/postgres-server.ts');
      print(postgresStatus(project.root), profile, flags.json);
    });
}

async function context(command: Command) {
  const options = globalOptions(command);
  const project = loadProject(findProjectRoot(options.project));
  const profile = await loadIoProfile(project.ioConfigFile, { profile: options.profile });
  return { project, profile };
}

function embedded(profile: IoProfile): boolean {
  if (connectorSettings(profile).postgres.embedded) return true;
  process.stdout.write(
    `profile ${profile.name} has no embedded PostgreSQL (POSTGRES_EMBEDDED is not true in ${profile.file}): nothing to start\n`,
  );
  return false;
}

/**
 * Where the server is and how to connect: the URL carries no password (it
 * stays in io_config.yaml), so the output is safe to paste anywhere.
 */
function print(status: PostgresStatus, profile: IoProfile, json = false): void {
  const { postgres, runStore } = connectorSettings(profile);
  const user = postgres.user;
  const databases = [...new Set([postgres.database, runStore.database])];
  const urls = status.running
    ? databases.map((db) => `postgresql://${encodeURIComponent(user)}@127.0.0.1:${status.port}/${encodeURIComponent(db)}`)
    : [];
  if (json) {
    process.stdout.write(`${JSON.stringify({ ...status, urls }, null, 2)}\n`);
    return;
  }
  if (!status.running) {
    process.stdout.write(
      `embedded PostgreSQL is not running (data in ${status.dataDir})\nstart it with: pipekit dev start (runs start it on demand too)\n`,
    );
    return;
  }
  process.stdout.write(
    `${pc.green('●')} embedded PostgreSQL running on 127.0.0.1:${status.port} (pid ${status.pid})\n` +
      `  data      ${status.dataDir}\n` +
      urls.map((url, i) => `  ${(i === 0 ? 'data db' : 'run store').padEnd(9)} ${url}\n`).join('') +
      `  password  POSTGRES_PASSWORD of profile ${profile.name} in ${profile.file}\n` +
      `  psql      psql ${urls[0]}\n` +
      'It keeps running after pipekit exits: stop it with pipekit dev stop\n',
  );
}

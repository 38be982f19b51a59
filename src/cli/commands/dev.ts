import type { Command } from 'commander';
import { loadIoProfile } from '../../config/io-config.ts';
import { ensureProfilePostgres } from '../../io/connectors.ts';
import { loadProject } from '../../project/load-project.ts';
import { findProjectRoot } from '../project-root.ts';
import { globalOptions } from '../session-command.ts';

/** The local profile's embedded services (today: PostgreSQL in <project>/.pipekit/postgres). */
export function registerDev(program: Command): void {
  const dev = program.command('dev').description("start, stop or inspect the local profile's embedded PostgreSQL");
  dev
    .command('start')
    .description('start the embedded PostgreSQL (runs and exports start it on demand too)')
    .action(async (_f: unknown, command: Command) => {
      const { project, profile } = await context(command);
      const runDb = profile.get('RUN_STORE_DBNAME');
      await ensureProfilePostgres(profile);
      if (runDb) await ensureProfilePostgres(profile, runDb);
      const { postgresStatus } = await import('../../services/postgres-server.ts');
      print(await postgresStatus(project.root));
    });
  dev
    .command('stop')
    .description('stop the embedded PostgreSQL')
    .action(async (_f: unknown, command: Command) => {
      const { project } = await context(command);
      const { stopPostgres } = await import('../../services/postgres-server.ts');
      await stopPostgres(project.root);
      process.stdout.write('embedded PostgreSQL stopped\n');
    });
  dev
    .command('status')
    .description('is the embedded PostgreSQL running, where, on which port')
    .action(async (_f: unknown, command: Command) => {
      const { project } = await context(command);
      const { postgresStatus } = await import('../../services/postgres-server.ts');
      print(await postgresStatus(project.root));
    });
}

async function context(command: Command) {
  const options = globalOptions(command);
  const project = loadProject(findProjectRoot(options.project));
  const profile = await loadIoProfile(project.ioConfigFile, { profile: options.profile });
  return { project, profile };
}

function print(status: unknown): void {
  process.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
}

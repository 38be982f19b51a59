import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { loadProject } from '../../project/load-project.ts';
import { writeTitanicSample } from '../../samples/titanic.ts';
import { writeYellowTaxiSample } from '../../samples/yellow-taxi.ts';
import { findProjectRoot } from '../project-root.ts';
import { globalOptions } from '../session-command.ts';

export const DEFAULT_SAMPLE_ROWS = 100_000;

/** Where the local profile's example data lives: `<project>/.pipekit/samples`. */
export function samplesDir(projectRoot: string): string {
  return join(projectRoot, '.pipekit', 'samples');
}

/**
 * Writes the offline stand-ins for the Zoomcamp's downloads (a yellow-taxi
 * month and the Titanic CSV) unless they exist. Returns what it wrote.
 */
export async function ensureSamples(projectRoot: string, options: { rows?: number; force?: boolean } = {}): Promise<string[]> {
  const dir = samplesDir(projectRoot);
  mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  const taxi = join(dir, 'yellow_tripdata_2021-01.csv.gz');
  if (options.force || !existsSync(taxi)) {
    await writeYellowTaxiSample(taxi, { rows: options.rows ?? DEFAULT_SAMPLE_ROWS, month: '2021-01', seed: 1 });
    written.push(taxi);
  }
  const titanic = join(dir, 'titanic.csv');
  if (options.force || !existsSync(titanic)) {
    await writeTitanicSample(titanic);
    written.push(titanic);
  }
  return written;
}

export function registerSamples(program: Command): void {
  program
    .command('samples')
    .description('generate the offline example data the local profile loads (taxi month, Titanic)')
    .option('--rows <n>', 'taxi rows (the real January 2021 month has 1369765)', String(DEFAULT_SAMPLE_ROWS))
    .option('--force', 'overwrite existing samples')
    .action(async (flags: { rows: string; force?: boolean }, command: Command) => {
      const project = loadProject(findProjectRoot(globalOptions(command).project));
      const written = await ensureSamples(project.root, { rows: Number(flags.rows), force: flags.force });
      process.stdout.write(
        written.length ? `wrote ${written.join(', ')}\n` : `samples already in ${samplesDir(project.root)} (--force to rewrite)\n`,
      );
    });
}

import type { Command } from 'commander';

/**
 * Every CLI command as `pipekit --help` lists it, with the module that defines it. Only the
 * command being run is imported (with whatever engine, DuckDB, Postgres or console code it
 * needs), so `pipekit --help` loads none of them. test/cli/startup-imports.test.ts checks this
 * list against the commands' own definitions.
 */
export interface CommandEntry {
  readonly name: string;
  /** How the command list shows it, e.g. `run [options] <pipeline>`. */
  readonly term: string;
  readonly description: string;
  readonly load: () => Promise<(program: Command) => void>;
}

export const COMMANDS: readonly CommandEntry[] = [
  {
    name: 'init',
    term: 'init [options] <folder>',
    description: 'start a project of your own: io_config.yaml, an example pipeline, package.json, a Pulumi program',
    load: async () => (await import('./commands/init.ts')).registerInit,
  },
  {
    name: 'run',
    term: 'run [options] <pipeline>',
    description: 'run a pipeline (or one block of it) now',
    load: async () => (await import('./commands/run.ts')).registerRun,
  },
  {
    name: 'backfill',
    term: 'backfill [options] <pipeline>',
    description: 'run a pipeline once per date from --start to --end (end included, like Mage)',
    load: async () => (await import('./commands/backfill.ts')).registerBackfill,
  },
  {
    name: 'list',
    term: 'list [options] [pipeline]',
    description: "list the pipelines and their triggers, or one pipeline's blocks (reads files only)",
    load: async () => (await import('./commands/list.ts')).registerList,
  },
  {
    name: 'validate',
    term: 'validate',
    description: 'check pipeline.yaml files, block modules and the io_config profile without running anything',
    load: async () => (await import('./commands/validate.ts')).registerValidate,
  },
  {
    name: 'compile',
    term: 'compile',
    description:
      "compile every block file and parse the YAML files into the project's cache, ahead of the first run (the image build does)",
    load: async () => (await import('./commands/compile.ts')).registerCompile,
  },
  {
    name: 'runs',
    term: 'runs [options] [pipeline]',
    description: 'list recorded runs, newest first',
    load: async () => (await import('./commands/runs.ts')).registerRuns,
  },
  {
    name: 'logs',
    term: 'logs [options] <run>',
    description: "show a run's blocks and log lines",
    load: async () => (await import('./commands/runs.ts')).registerLogs,
  },
  {
    name: 'reconcile',
    term: 'reconcile [options]',
    description: 'end runs whose process or Cloud Run task is gone (failed with the reason, alerted once)',
    load: async () => (await import('./commands/runs.ts')).registerReconcile,
  },
  {
    name: 'new',
    term: 'new',
    description: 'scaffold a pipeline or a block',
    load: async () => (await import('./commands/new.ts')).registerNew,
  },
  {
    name: 'dev',
    term: 'dev',
    description: "start, stop or inspect the local profile's embedded PostgreSQL",
    load: async () => (await import('./commands/dev.ts')).registerDev,
  },
  {
    name: 'console',
    term: 'console [options]',
    description: 'serve the web console: pipelines, DAGs, runs, logs, previews, backfills',
    load: async () => (await import('./commands/console.ts')).registerConsole,
  },
  {
    name: 'samples',
    term: 'samples [options]',
    description: 'generate the offline example data the local profile loads (taxi month, Titanic)',
    load: async () => (await import('./commands/samples.ts')).registerSamples,
  },
  {
    name: 'demo',
    term: 'demo [options]',
    description: 'generate the sample data and run every example pipeline end to end (what `npm start` does)',
    load: async () => (await import('./commands/demo.ts')).registerDemo,
  },
];

/** Root options that take a value, so the word after them is not a command name. */
const VALUE_OPTIONS = new Set(['--project', '--profile']);

/** The command `argv` runs (for `help <command>`, the one it asks about), if any. */
export function invokedCommand(argv: readonly string[]): string | undefined {
  let asksHelp = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (VALUE_OPTIONS.has(arg)) {
      i++;
      continue;
    }
    if (arg.startsWith('-')) continue;
    if (arg === 'help' && !asksHelp) {
      asksHelp = true;
      continue;
    }
    return arg;
  }
  return undefined;
}

import { Command, CommanderError } from 'commander';
import pc from 'picocolors';
import { describeError, isPipekitError } from '../errors.ts';
import { registerBackfill } from './commands/backfill.ts';
import { registerConsole } from './commands/console.ts';
import { registerDemo } from './commands/demo.ts';
import { registerDev } from './commands/dev.ts';
import { registerInit } from './commands/init.ts';
import { registerList } from './commands/list.ts';
import { registerNew } from './commands/new.ts';
import { registerRun } from './commands/run.ts';
import { registerLogs, registerRuns } from './commands/runs.ts';
import { registerSamples } from './commands/samples.ts';
import { registerValidate } from './commands/validate.ts';

/** Exit codes: 0 success, 1 a run failed, 2 bad input or configuration, 130 cancelled. */
export function buildProgram(): Command {
  const program = new Command('pipekit')
    .description('Mage-style data pipelines in TypeScript: zero setup on a laptop, serverless on Google Cloud')
    .version('0.1.0')
    .option('--project <folder>', 'project folder holding io_config.yaml (default ./pipelines or .)')
    .option('--profile <name>', 'io_config.yaml profile (default $PIPEKIT_PROFILE or local)')
    .showHelpAfterError()
    .addHelpText('after', '\nExit codes: 0 success, 1 a run failed, 2 bad input or configuration, 130 cancelled.\nStart a project of your own with: pipekit init <folder>')
    .exitOverride();
  for (const register of [registerInit, registerRun, registerBackfill, registerList, registerValidate, registerRuns, registerLogs, registerNew, registerDev, registerConsole, registerSamples, registerDemo]) {
    register(program);
  }
  for (const command of program.commands) command.exitOverride();
  return program;
}

export async function main(argv: readonly string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv as string[], { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    process.stderr.write(`${pc.red('error:')} ${describeError(error)}\n`);
    if (!isPipekitError(error) && process.env.PIPEKIT_DEBUG) process.stderr.write(`${(error as Error).stack}\n`);
    return isPipekitError(error) ? 2 : 1;
  }
}

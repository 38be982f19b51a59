import { Command, CommanderError, Help } from 'commander';
import pc from 'picocolors';
import { describeError, isPipekitError } from '../errors.ts';
import { COMMANDS, invokedCommand } from './command-index.ts';

/**
 * The CLI with the command `argv` names defined in full and every other one as a name and a
 * description, enough for the command list (`all` defines every command, for tests).
 * Exit codes: 0 success, 1 a run failed, 2 bad input or configuration, 130 cancelled.
 */
export async function buildProgram(argv: readonly string[], all = false): Promise<Command> {
  const program = new Command('pipekit')
    .description('Mage-style data pipelines in TypeScript: zero setup on a laptop, serverless on Google Cloud')
    .version('0.1.0')
    .option('--project <folder>', 'project folder holding io_config.yaml (default ./pipelines or .)')
    .option('--profile <name>', 'io_config.yaml profile (default $PIPEKIT_PROFILE or local)')
    .showHelpAfterError()
    .addHelpText(
      'after',
      '\nExit codes: 0 success, 1 a run failed, 2 bad input or configuration, 130 cancelled.\nStart a project of your own with: pipekit init <folder>',
    )
    .exitOverride();
  const invoked = invokedCommand(argv);
  const terms = new Map<Command, string>();
  for (const entry of COMMANDS) {
    if (all || entry.name === invoked) {
      (await entry.load())(program);
      continue;
    }
    const outline = program.command(entry.name).description(entry.description);
    terms.set(outline, entry.term);
  }
  const help = new Help();
  program.configureHelp({ subcommandTerm: (command) => terms.get(command) ?? help.subcommandTerm(command) });
  for (const command of program.commands) command.exitOverride();
  return program;
}

export async function main(argv: readonly string[]): Promise<number> {
  try {
    await (await buildProgram(argv)).parseAsync(argv as string[], { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    process.stderr.write(`${pc.red('error:')} ${describeError(error)}\n`);
    if (!isPipekitError(error) && process.env.PIPEKIT_DEBUG) process.stderr.write(`${(error as Error).stack}\n`);
    return isPipekitError(error) ? 2 : 1;
  }
}

import type { Command } from 'commander';
import { parseVarArgs } from '../../engine/variables.ts';
import { cleanWorkspace } from '../../engine/retention.ts';
import { retriedTaskDate } from '../../engine/retried-task.ts';
import { planRun } from '../../engine/run-plan.ts';
import type { RunResult } from '../../engine/runner.ts';
import { currentOwner } from '../../runs/owner.ts';
import type { Session } from '../../engine/session.ts';
import { parseDateArg } from '../../time/backfill-range.ts';
import { formatRows, formatSeconds, statusText, table } from '../format.ts';
import { cancelOnSignals, runOutput } from '../run-output.ts';
import { dateOption, varOption } from '../options.ts';
import { reconcileBeforeReading, withSession, type GlobalOptions } from '../session-command.ts';

interface RunFlags extends GlobalOptions {
  block?: string;
  executionDate?: string;
  trigger?: string;
  var: string[];
  resume?: string;
  eventId?: string;
  quiet?: boolean;
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run a pipeline (or one block of it) now')
    .argument('<pipeline>', 'pipeline name (its folder under the project)')
    .option('-b, --block <uuid>', 'run only this block, on the latest succeeded outputs of its upstreams')
    .option(
      '-d, --execution-date <date>',
      "the date the run is for (YYYY-MM-DD or ISO); default now, or the trigger's latest tick",
      dateOption,
    )
    .option(
      '-t, --trigger <name>',
      'run as this trigger: its variables, and its latest tick as execution date (what Cloud Scheduler sends)',
    )
    .option('--var <name=value>', 'a run variable (repeatable); values that parse as JSON are typed', varOption, [])
    .option('--resume <run-id>', 're-run a failed run: succeeded blocks are reused, the rest run again')
    .option(
      '--event-id <id>',
      'the event that started it (the GCS trigger sends the CloudEvent id): one run per event, however often it is delivered',
    )
    .option('-q, --quiet', 'no log lines, only the summary')
    .action(async (name: string, flags: RunFlags, command: Command) =>
      withSession(command, { pipelines: [name] }, async (session) => {
        const result = await runOne(session, name, flags);
        return result.status === 'succeeded' || result.status === 'duplicate' ? 0 : result.status === 'cancelled' ? 130 : 1;
      }),
    );
}

async function runOne(session: Session, name: string, flags: RunFlags): Promise<RunResult> {
  const pipeline = session.pipeline(name);
  const plan = planRun(pipeline, {
    trigger: flags.trigger,
    // A retried Cloud Run task retries its own tick, not the one that is latest by now.
    executionDate: flags.executionDate ? parseDateArg(flags.executionDate) : await retriedTaskDate(session.store, currentOwner()),
    eventId: flags.eventId,
  });
  await reconcileBeforeReading(session);
  const output = runOutput(session.store, pipeline, { blocks: flags.block ? [flags.block] : undefined, quiet: flags.quiet });
  const cancel = cancelOnSignals();
  let result: RunResult;
  try {
    result = await session.runPipeline({
      pipeline,
      plan,
      variables: parseVarArgs(flags.var),
      only: flags.block,
      resumeFrom: flags.resume,
      signal: cancel.signal,
      sinks: output.sinks,
      onEvent: output.onEvent,
    });
  } finally {
    output.stop();
    cancel.dispose();
  }
  printSummary(result);
  await cleanWorkspace(session);
  return result;
}

function printSummary(result: RunResult): void {
  if (result.status === 'duplicate') {
    process.stdout.write('this trigger tick (or event) already has a run that is running or succeeded: nothing to do\n');
    return;
  }
  const run = result.run!;
  process.stdout.write(
    `\n${run.pipeline} ${run.id}  ${statusText(run.status)}  ${formatSeconds(run.startedAt, run.finishedAt)}\n` +
      table(
        ['block', 'status', 'attempts', 'rows', 'time'],
        result.blocks.map((b) => [
          b.block,
          statusText(b.status),
          String(b.attempts || ''),
          formatRows(b.rowsOut),
          b.reusedFrom ? `reused from ${b.reusedFrom}` : formatSeconds(b.startedAt, b.finishedAt),
        ]),
      ) +
      '\n',
  );
  if (run.error) process.stderr.write(`\n${run.error}\n`);
}

import type { Command } from 'commander';
import { cancelBackfill, finishBackfill, newBackfillId, retryBackfill, runBackfill, type BackfillResult } from '../../engine/backfill.ts';
import { fanOut, shareOfThreads, workerArgs } from '../fan-out.ts';
import { cleanWorkspace } from '../../engine/retention.ts';
import { parseVarArgs } from '../../engine/variables.ts';
import type { Session } from '../../engine/session.ts';
import { ConfigError, InvalidInputError, UsageError } from '../../errors.ts';
import type { PipelineSpec } from '../../project/model.ts';
import { parseDateArg, parseEvery, type BackfillEvery } from '../../time/backfill-range.ts';
import { formatDate, formatRows, formatSeconds, statusText, table } from '../format.ts';
import { cancelOnSignals, runOutput } from '../run-output.ts';
import { dateOption, positiveIntOption, varOption } from '../options.ts';
import { withSession, type GlobalOptions } from '../session-command.ts';

interface BackfillFlags extends GlobalOptions {
  start?: string;
  end?: string;
  every: string;
  timezone: string;
  parallel: string;
  var: string[];
  backfillId?: string;
  retry?: string;
  cancel?: string;
  quiet?: boolean;
}

export function registerBackfill(program: Command): void {
  program
    .command('backfill')
    .description('run a pipeline once per date from --start to --end (end included, like Mage)')
    .argument('<pipeline>', 'pipeline name')
    .option('-s, --start <date>', 'first execution date (YYYY-MM-DD or ISO)', dateOption)
    .option('-e, --end <date>', 'last execution date, included', dateOption)
    .option('--every <step>', 'day | hour | week | month | a cron expression', 'day')
    .option('--timezone <tz>', 'time zone a cron step is evaluated in', 'UTC')
    .option('-p, --parallel <n>', 'worker processes splitting the dates (one per core is a good start)', positiveIntOption, '1')
    .option('--var <name=value>', 'a variable for every run (repeatable)', varOption, [])
    .option('--backfill-id <id>', 'the backfill record to use (Cloud Run tasks of one execution share it)')
    .option('--retry <backfill-id>', 'run again the dates of a backfill whose latest run did not succeed')
    .option('--cancel <backfill-id>', 'cancel a backfill: no more of its runs start')
    .option('-q, --quiet', 'no log lines, only the summary')
    .addHelpText(
      'after',
      '\nOn Cloud Run, a job executed with --tasks=N splits the dates: task i runs every N-th date from i\n' +
        '(CLOUD_RUN_TASK_INDEX / CLOUD_RUN_TASK_COUNT), all recorded under one backfill id.',
    )
    .action(async (name: string, flags: BackfillFlags, command: Command) =>
      withSession(command, { pipelines: [name] }, async (session) => {
        const pipeline = session.pipeline(name);
        if (flags.cancel) {
          const backfill = await session.store.getBackfill(flags.cancel);
          // A finished or unknown backfill is refused below (exit 2), never marked cancelled.
          if (backfill?.status === 'running' && backfill.cloudExecutions.length) {
            // Started in the cloud: its executions are cancelled too, and its runs in flight with them.
            const [{ cancelCloudBackfill }, { createCloudExecutions }] = await Promise.all([
              import('../../cloud/backfill-control.ts'),
              import('../../cloud/executions.ts'),
            ]);
            const executions = createCloudExecutions();
            try {
              const cancelled = await cancelCloudBackfill(flags.cancel, {
                store: session.store,
                reconciler: session.reconciler,
                executions,
              });
              process.stdout.write(
                `backfill ${flags.cancel} cancelled: ${cancelled.executions.length} Cloud Run execution(s) and ${cancelled.runs.length} run(s) in flight\n`,
              );
            } finally {
              await executions.close();
            }
            return 0;
          }
          await cancelBackfill(session, flags.cancel);
          process.stdout.write(`backfill ${flags.cancel} cancelled: no more of its runs start\n`);
          return 0;
        }
        const result = await (flags.retry ? retry(session, pipeline, flags) : start(session, pipeline, flags));
        printSummary(result);
        await cleanWorkspace(session);
        // A task (Cloud Run or local worker) answers for its own runs: the others may
        // still be running. The process that owns the whole backfill needs all of it done.
        const isTask = Number(process.env.PIPEKIT_TASK_COUNT ?? process.env.CLOUD_RUN_TASK_COUNT ?? 1) > 1;
        const mineOk = result.runs.every((r) => r.status === 'succeeded' || r.status === 'duplicate');
        return mineOk && (isTask || result.backfill.status === 'succeeded') ? 0 : 1;
      }),
    );
}

async function start(session: Session, pipeline: PipelineSpec, flags: BackfillFlags): Promise<BackfillResult> {
  if (!flags.start || !flags.end) {
    throw new ConfigError({
      file: pipeline.file,
      message: 'a backfill needs --start and --end',
      hint: `e.g. pipekit backfill ${pipeline.name} --start 2021-01-01 --end 2021-01-07 --every day`,
    });
  }
  const [first, last] = [parseDateArg(flags.start), parseDateArg(flags.end)];
  if (last.getTime() < first.getTime()) {
    throw new UsageError(`--end ${flags.end} is before --start ${flags.start}`, {
      hint: 'the end date is the last one run (included): swap them',
    });
  }
  // Parsed before any worker starts, so a bad --every fails once, here.
  const range: BackfillRange = {
    pipeline,
    start: first,
    end: last,
    every: everyFlag(flags.every, flags.timezone, pipeline),
    variables: parseVarArgs(flags.var),
  };
  const env = process.env;
  const taskCount = Number(env.PIPEKIT_TASK_COUNT ?? env.CLOUD_RUN_TASK_COUNT ?? 1);
  const taskIndex = Number(env.PIPEKIT_TASK_INDEX ?? env.CLOUD_RUN_TASK_INDEX ?? 0);
  const parallel = Number(flags.parallel);
  if (parallel > 1 && taskCount === 1) return startWorkers(session, range, flags, parallel);
  // Tasks of one Cloud Run execution must share one backfill record.
  const id = flags.backfillId ?? (taskCount > 1 && env.CLOUD_RUN_EXECUTION ? `bf-${env.CLOUD_RUN_EXECUTION}` : undefined);
  return withOutput(session, pipeline, flags, (extra) => runBackfill(session, { ...range, id, taskCount, taskIndex, ...extra }));
}

/** What every task of one backfill agrees on. */
type BackfillRange = Pick<Parameters<typeof runBackfill>[1], 'pipeline' | 'start' | 'end' | 'every' | 'variables'>;

/**
 * `--parallel N` on the command line: N tasks split the dates (like Cloud
 * Run tasks) under one backfill id. This process is task 0 and N-1 worker
 * processes take the rest: the parent already has its modules loaded and its
 * session open, and a process start (~1 s) was a tenth of a 12-month backfill.
 */
async function startWorkers(session: Session, range: BackfillRange, flags: BackfillFlags, parallel: number): Promise<BackfillResult> {
  const id = flags.backfillId ?? newBackfillId();
  const others = Array.from({ length: parallel - 1 }, (_, i) => i + 1);
  const workers = fanOut(others, parallel, workerArgs(process.argv.slice(2), ['--backfill-id', id]));
  // This process is one of the N too; an explicit setting in the environment wins.
  for (const [key, value] of Object.entries(shareOfThreads(parallel))) process.env[key] ??= value;
  try {
    await withOutput(session, range.pipeline, flags, (extra) =>
      runBackfill(session, { ...range, id, taskCount: parallel, taskIndex: 0, ...extra }),
    );
  } finally {
    await workers; // even when this task failed: the report covers every task's runs
  }
  const codes = await workers;
  const backfill = await finishBackfill(session, id);
  const runs = await session.store.listRuns({ backfillId: id, limit: 10_000 });
  const byDate = runs.sort((a, b) => a.executionDate.getTime() - b.executionDate.getTime());
  const results = await Promise.all(
    byDate.map(async (run) => ({ status: run.status, run, blocks: await session.store.getBlockRuns(run.id) })),
  );
  if (codes.some((c) => c !== 0) && results.every((r) => r.status === 'succeeded')) {
    process.stderr.write(`a backfill worker exited with ${codes.join(', ')}\n`);
  }
  return { backfill, runs: results };
}

async function retry(session: Session, pipeline: PipelineSpec, flags: BackfillFlags): Promise<BackfillResult> {
  return withOutput(session, pipeline, flags, (extra) =>
    retryBackfill(session, flags.retry!, {
      pipeline,
      variables: parseVarArgs(flags.var),
      parallel: Number(flags.parallel),
      ...cloudRunTask(),
      ...extra,
    }),
  );
}

/** On Cloud Run, the retry's tasks split its dates: this task's index and count, and the execution as the claim round. */
function cloudRunTask(env: NodeJS.ProcessEnv = process.env): { taskIndex: number; taskCount: number; round?: string } {
  return {
    taskIndex: Number(env.CLOUD_RUN_TASK_INDEX ?? 0),
    taskCount: Number(env.CLOUD_RUN_TASK_COUNT ?? 1),
    round: env.CLOUD_RUN_EXECUTION,
  };
}

async function withOutput(
  session: Session,
  pipeline: PipelineSpec,
  flags: BackfillFlags,
  fn: (extra: { signal: AbortSignal; sinks: ReturnType<typeof runOutput>['sinks'] }) => Promise<BackfillResult>,
): Promise<BackfillResult> {
  // Several runs at once: plain log lines, no live DAG view.
  const output = runOutput(session.store, pipeline, { quiet: flags.quiet, live: false });
  const cancel = cancelOnSignals();
  try {
    return await fn({ signal: cancel.signal, sinks: output.sinks });
  } finally {
    output.stop();
    cancel.dispose();
  }
}

/** `--every`/`--timezone` parsed as everywhere else (src/time/backfill-range.ts), as an error naming the flag. */
function everyFlag(every: string, timezone: string, pipeline: PipelineSpec): BackfillEvery {
  try {
    return parseEvery(every, timezone);
  } catch (error) {
    if (!(error instanceof InvalidInputError)) throw error;
    throw new ConfigError({
      file: pipeline.file,
      key: `--${error.field}`,
      message: error.message.slice(error.field.length + 2),
      hint: error.hint,
    });
  }
}

function printSummary(result: BackfillResult): void {
  const { backfill } = result;
  process.stdout.write(
    `\nbackfill ${backfill.id} of ${backfill.pipeline}: ${statusText(backfill.status === 'running' ? 'running' : backfill.status)}  ` +
      `${backfill.executionDates.length} dates, ${result.runs.length} run here\n` +
      table(
        ['execution date', 'run', 'status', 'rows', 'time'],
        result.runs.map((r) => [
          r.run ? formatDate(r.run.executionDate) : '',
          r.run?.id ?? '',
          statusText(r.status),
          formatRows(r.blocks.at(-1)?.rowsOut),
          r.run ? formatSeconds(r.run.startedAt, r.run.finishedAt) : '',
        ]),
      ) +
      '\n',
  );
}

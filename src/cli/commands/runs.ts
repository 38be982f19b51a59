import { Option, type Command } from 'commander';
import pc from 'picocolors';
import { NotFoundError } from '../../errors.ts';
import type { RunStatus } from '../../runs/model.ts';
import { positiveIntOption } from '../options.ts';
import { runsTable } from '../runs-table.ts';
import { formatDate, formatRows, formatSeconds, statusText, table } from '../format.ts';
import { reconcileBeforeReading, withSession } from '../session-command.ts';

const RUN_STATUSES: readonly RunStatus[] = ['queued', 'running', 'succeeded', 'failed', 'cancelled'];

export function registerRuns(program: Command): void {
  program
    .command('runs')
    .description('list recorded runs, newest first')
    .argument('[pipeline]', 'only this pipeline')
    .addOption(new Option('--status <status>', 'only runs in this status').choices(RUN_STATUSES))
    .option('-n, --limit <n>', 'how many', positiveIntOption, '20')
    .option('--json', 'print JSON')
    .action(async (pipeline: string | undefined, flags: { status?: RunStatus; limit: string; json?: boolean }, command: Command) =>
      withSession(command, { pipelines: pipeline ? [pipeline] : [] }, async (session) => {
        if (pipeline) session.pipeline(pipeline);
        await reconcileBeforeReading(session);
        const runs = await session.store.listRuns({ pipeline, status: flags.status, limit: Number(flags.limit) });
        const rows = await session.store.rowsOut(runs.map((r) => r.id));
        if (flags.json) {
          process.stdout.write(
            `${JSON.stringify(
              runs.map((r) => ({ ...r, rows: rows.get(r.id) ?? null })),
              null,
              2,
            )}\n`,
          );
          return 0;
        }
        if (runs.length === 0) {
          const filtered = pipeline || flags.status;
          process.stdout.write(
            filtered
              ? `no ${flags.status ?? ''}${flags.status ? ' ' : ''}runs${pipeline ? ` of ${pipeline}` : ''}\n`
              : 'no runs yet: start one with pipekit run <pipeline>\n',
          );
          return 0;
        }
        process.stdout.write(`${runsTable(runs, rows)}\n`);
        return 0;
      }),
    );
}

export function registerLogs(program: Command): void {
  program
    .command('logs')
    .description("show a run's blocks and log lines")
    .argument('<run>', 'run id (see pipekit runs)')
    .option('-b, --block <uuid>', 'only this block')
    .option('--json', 'print JSON lines')
    .action(async (runId: string, flags: { block?: string; json?: boolean }, command: Command) =>
      withSession(command, { pipelines: [] }, async (session) => {
        await reconcileBeforeReading(session);
        const run = await session.store.getRun(runId);
        if (!run) throw new NotFoundError(`run ${runId} is not in the run store`, { hint: 'list runs with: pipekit runs' });
        const logs = await session.store.getLogs(runId, { block: flags.block });
        if (flags.json) {
          for (const l of logs) process.stdout.write(`${JSON.stringify(l)}\n`);
          return 0;
        }
        const blocks = await session.store.getBlockRuns(runId);
        process.stdout.write(
          `${run.pipeline} ${run.id}  ${statusText(run.status)}  ${formatDate(run.executionDate)}  (${run.trigger}, ${run.profile})\n`,
        );
        process.stdout.write(
          `${table(
            ['block', 'status', 'attempts', 'rows', 'time', 'error'],
            blocks.map((b) => [
              b.block,
              statusText(b.status),
              String(b.attempts || ''),
              formatRows(b.rowsOut),
              formatSeconds(b.startedAt, b.finishedAt),
              b.error?.split('\n')[0] ?? '',
            ]),
          )}\n\n`,
        );
        for (const l of logs) {
          const color = l.severity === 'ERROR' ? pc.red : l.severity === 'WARNING' ? pc.yellow : (s: string) => s;
          process.stdout.write(
            `${pc.dim(l.time.toISOString().slice(11, 23))} ${color(l.severity.padEnd(7))} ${l.block ?? run.pipeline}: ${l.message}\n`,
          );
        }
        return 0;
      }),
    );
}

export function registerReconcile(program: Command): void {
  program
    .command('reconcile')
    .description('end runs whose process or Cloud Run task is gone (failed with the reason, alerted once)')
    .option('--json', 'print JSON')
    .action(async (flags: { json?: boolean }, command: Command) =>
      withSession(command, { pipelines: [] }, async (session) => {
        const { ended, unknown } = await session.reconciler.reconcile();
        if (flags.json) {
          process.stdout.write(
            `${JSON.stringify({ ended: ended.map((e) => ({ run: e.run.id, pipeline: e.run.pipeline, ...e.dead })), unknown: unknown.map((u) => ({ run: u.run.id, why: u.why })) })}\n`,
          );
        } else {
          for (const { run, dead } of ended) process.stdout.write(`run ${run.id} of ${run.pipeline} ${dead.status}: ${dead.reason}\n`);
          process.stdout.write(
            `${ended.length} run${ended.length === 1 ? '' : 's'} ended${unknown.length ? `, ${unknown.length} could not be checked` : ''}\n`,
          );
        }
        // A run that could not be checked is reported; the scheduled pass runs again in minutes.
        return 0;
      }),
    );
}

import type { Command } from 'commander';
import pc from 'picocolors';
import { NotFoundError } from '../../errors.ts';
import type { PipelineSpec, Trigger } from '../../project/model.ts';
import { loadProject } from '../../project/load-project.ts';
import { findProjectRoot } from '../project-root.ts';
import { globalOptions } from '../session-command.ts';
import { table, truncate } from '../format.ts';

export function registerList(program: Command): void {
  program
    .command('list')
    .description("list the pipelines and their triggers, or one pipeline's blocks (reads files only)")
    .argument('[pipeline]', "show this pipeline's blocks")
    .option('--json', 'print JSON')
    .action((name: string | undefined, flags: { json?: boolean }, command: Command) => {
      const project = loadProject(findProjectRoot(globalOptions(command).project));
      const pipelines = [...project.pipelines.values()];
      const chosen = name === undefined ? undefined : project.pipelines.get(name);
      if (name !== undefined && !chosen) {
        throw new NotFoundError(`there is no pipeline "${name}"`, { hint: `pipelines: ${[...project.pipelines.keys()].join(', ')}` });
      }
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(chosen ?? pipelines, null, 2)}\n`);
        return;
      }
      process.stdout.write(chosen ? blocksTable(chosen) : pipelinesTable(pipelines));
    });
}

/** One line per pipeline, the description cut to the terminal's width (100 columns when piped). */
function pipelinesTable(pipelines: readonly PipelineSpec[]): string {
  const headers = ['pipeline', 'blocks', 'triggers', 'description'];
  const rows = pipelines.map((p) => [
    p.name,
    String(p.blocks.length),
    p.triggers.map(describeTrigger).join(', ') || '—',
    p.description ?? '',
  ]);
  // Columns are joined by two spaces; the description gets what the first three leave.
  const used = [0, 1, 2].reduce((sum, i) => sum + Math.max(headers[i]!.length, ...rows.map((r) => r[i]!.length)) + 2, 0);
  const room = Math.max(20, (process.stdout.columns || 100) - used);
  const cells = rows.map(([name, blocks, triggers, description]) => [pc.bold(name!), blocks!, triggers!, truncate(description!, room)]);
  return `${table(headers, cells)}\n\n${pc.dim('blocks of one pipeline: pipekit list <pipeline>')}\n`;
}

function blocksTable(pipeline: PipelineSpec): string {
  return `${pc.bold(pipeline.name)}${pipeline.description ? `  ${pipeline.description}` : ''}\n${table(
    ['block', 'kind', 'after', 'file'],
    pipeline.blocks.map((b) => [b.uuid, b.kind, b.upstream.join(', ') || '—', b.file]),
  )}\ntriggers: ${pipeline.triggers.map(describeTrigger).join(', ') || 'none'}\n`;
}

function describeTrigger(t: Trigger): string {
  const what = t.type === 'schedule' ? `${t.schedule}${t.timezone !== 'UTC' ? ` ${t.timezone}` : ''}` : `(${t.type})`;
  return `${t.name} ${what}${t.enabled ? '' : ' off'}`;
}

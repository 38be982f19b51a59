import type { Command } from 'commander';
import pc from 'picocolors';
import { loadProject } from '../../project/load-project.ts';
import { findProjectRoot } from '../project-root.ts';
import { globalOptions } from '../session-command.ts';
import { table } from '../format.ts';

export function registerList(program: Command): void {
  program
    .command('list')
    .description('list the pipelines, their blocks and triggers (reads files only)')
    .option('--json', 'print JSON')
    .action((flags: { json?: boolean }, command: Command) => {
      const project = loadProject(findProjectRoot(globalOptions(command).project));
      const pipelines = [...project.pipelines.values()];
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(pipelines, null, 2)}\n`);
        return;
      }
      process.stdout.write(
        `${table(
          ['pipeline', 'blocks', 'triggers', 'description'],
          pipelines.map((p) => [
            pc.bold(p.name),
            p.blocks.map((b) => (b.upstream.length ? `${b.upstream.join('+')}→${b.uuid}` : b.uuid)).join(', '),
            p.triggers.map((t) => `${t.name}${t.type === 'schedule' ? ` ${t.schedule}${t.timezone !== 'UTC' ? ` ${t.timezone}` : ''}` : ` (${t.type})`}${t.enabled ? '' : ' off'}`).join(', '),
            p.description ?? '',
          ]),
        )}\n`,
      );
    });
}

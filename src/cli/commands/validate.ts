import type { Command } from 'commander';
import pc from 'picocolors';
import { loadIoProfile } from '../../config/io-config.ts';
import { listProfiles } from '../../config/io-config-file.ts';
import { loadBlockModule } from '../../engine/load-block.ts';
import { describeError } from '../../errors.ts';
import { connectorSettingsProblems } from '../../io/settings/index.ts';
import { loadProject } from '../../project/load-project.ts';
import { findProjectRoot } from '../project-root.ts';
import { reportProblems } from '../problems.ts';
import { globalOptions } from '../session-command.ts';

export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description('check pipeline.yaml files, block modules and the io_config profile without running anything')
    .action(async (_flags: unknown, command: Command) => {
      const options = globalOptions(command);
      const project = loadProject(findProjectRoot(options.project));
      const problems: string[] = [];
      for (const pipeline of project.pipelines.values()) {
        for (const block of pipeline.blocks) {
          if (block.language !== 'typescript') continue;
          try {
            await loadBlockModule(pipeline.file, block);
          } catch (error) {
            problems.push(describeError(error));
          }
        }
      }
      try {
        const profile = await loadIoProfile(project.ioConfigFile, { profile: options.profile });
        problems.push(...connectorSettingsProblems(profile).map(describeError));
      } catch (error) {
        problems.push(describeError(error));
      }
      if (reportProblems(problems)) return;
      const blocks = [...project.pipelines.values()].reduce((n, p) => n + p.blocks.length, 0);
      process.stdout.write(
        `${pc.green('✔')} ${project.pipelines.size} pipelines, ${blocks} blocks valid; io_config profiles: ${listProfiles(project.ioConfigFile).join(', ')}\n`,
      );
    });
}

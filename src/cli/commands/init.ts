import { relative } from 'node:path';
import type { Command } from 'commander';
import pc from 'picocolors';
import { scaffoldProject } from '../../project/scaffold.ts';

export function registerInit(program: Command): void {
  program
    .command('init')
    .description('start a project of your own: io_config.yaml, an example pipeline, package.json, a Pulumi program')
    .argument('<folder>', 'the new project folder (created; must be empty if it exists)')
    .option(
      '--pipekit <spec>',
      'how package.json depends on pipekit: a version range, a tarball or a folder (default: the way this pipekit is installed)',
    )
    .action(async (folder: string, flags: { pipekit?: string }) => {
      const result = await scaffoldProject(folder, { pipekit: flags.pipekit });
      const where = relative(process.cwd(), result.root) || '.';
      process.stdout.write(
        `${pc.green('✔')} created ${where}/ (${result.files.length} files; pipekit ${result.pipekitSpec})\n\n` +
          `  cd ${where}\n  npm install\n  npx pipekit run example      ${pc.dim('# offline: PostgreSQL for the run history starts by itself')}\n` +
          `  npx pipekit console          ${pc.dim('# the web console on http://127.0.0.1:6789')}\n` +
          `  pulumi up                    ${pc.dim('# deploy this folder to Google Cloud (see infra/index.ts)')}\n`,
      );
    });
}

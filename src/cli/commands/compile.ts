import type { Command } from 'commander';
import pc from 'picocolors';
import { readIoConfig } from '../../config/io-config.ts';
import { blockCacheDir, compileBlockFile } from '../../engine/block-cache.ts';
import { describeError } from '../../errors.ts';
import { openProject } from '../../project/open-project.ts';
import { findProjectRoot } from '../project-root.ts';
import { reportProblems } from '../problems.ts';
import { globalOptions } from '../session-command.ts';

/**
 * Runs compile block files (and keep parsed pipeline.yaml and io_config.yaml files) on first
 * use anyway; this does it ahead of time, without running anything, so the container image
 * ships warm caches and no job pays for the compiler, the YAML parser or zod.
 */
export function registerCompile(program: Command): void {
  program
    .command('compile')
    .description(
      "compile every block file and parse the YAML files into the project's cache, ahead of the first run (the image build does)",
    )
    .action(async (_flags: unknown, command: Command) => {
      const project = await openProject(findProjectRoot(globalOptions(command).project));
      await readIoConfig(project.ioConfigFile);
      const problems: string[] = [];
      let compiled = 0;
      let cached = 0;
      const seen = new Set<string>();
      for (const pipeline of project.pipelines.values()) {
        for (const block of pipeline.blocks) {
          // Pipelines share block files: each is compiled once.
          if (block.language !== 'typescript' || seen.has(block.path)) continue;
          seen.add(block.path);
          try {
            if ((await compileBlockFile(block.path, blockCacheDir(pipeline.file))).compiled) compiled++;
            else cached++;
          } catch (error) {
            problems.push(describeError(error));
          }
        }
      }
      if (reportProblems(problems)) return;
      process.stdout.write(`${pc.green('✔')} ${compiled} block files compiled, ${cached} already in the cache\n`);
    });
}

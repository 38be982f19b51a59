import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import type { Command } from 'commander';
import { ConfigError } from '../../errors.ts';
import { BLOCK_KINDS, type BlockKind } from '../../project/model.ts';
import { findProjectRoot } from '../project-root.ts';
import { globalOptions } from '../session-command.ts';

const NAME = /^[A-Za-z_][\w-]*$/;

export function registerNew(program: Command): void {
  const cmd = program.command('new').description('scaffold a pipeline or a block');
  cmd
    .command('pipeline')
    .argument('<name>', 'pipeline name (folder name)')
    .description('create <project>/<name>/pipeline.yaml with a loader → transformer → exporter')
    .action((name: string, _flags: unknown, command: Command) => {
      const root = findProjectRoot(globalOptions(command).project);
      checkName(root, name);
      const file = join(root, name, 'pipeline.yaml');
      if (existsSync(file)) throw new ConfigError({ file, message: 'already exists' });
      const blocks = (['loader', 'transformer', 'exporter'] as const).map((kind) => ({
        kind,
        uuid: `${name}_${kind}`,
        file: `blocks/${name}_${kind}.ts`,
      }));
      for (const b of blocks) writeBlock(root, b.file, b.kind);
      write(
        file,
        `description: ${name}\nblocks:\n` +
          blocks
            .map(
              (b, i) =>
                `  - uuid: ${b.uuid}\n    kind: ${b.kind}\n    file: ${b.file}\n${i ? `    upstream: [${blocks[i - 1]!.uuid}]\n` : ''}`,
            )
            .join('') +
          `variables: {}\ntriggers:\n  - name: daily\n    schedule: "@daily"\n    timezone: UTC\n    enabled: false\nretry:\n  attempts: 2\n  delay: 10s\n`,
      );
      process.stdout.write(`created ${relative(process.cwd(), file)} and ${blocks.length} blocks; run it with: pipekit run ${name}\n`);
    });
  cmd
    .command('block')
    .argument('<uuid>', 'block uuid; the file is blocks/<uuid>.ts')
    .requiredOption('-k, --kind <kind>', `one of ${BLOCK_KINDS.join(', ')}`)
    .option('--sql', 'a .sql block instead of TypeScript')
    .description('create a block file to add to a pipeline.yaml')
    .action((uuid: string, flags: { kind: string; sql?: boolean }, command: Command) => {
      const root = findProjectRoot(globalOptions(command).project);
      checkName(root, uuid);
      if (!BLOCK_KINDS.includes(flags.kind as BlockKind)) {
        throw new ConfigError({ file: '--kind', message: `unknown kind ${flags.kind}`, hint: `use one of ${BLOCK_KINDS.join(', ')}` });
      }
      const file = `blocks/${uuid}.${flags.sql ? 'sql' : 'ts'}`;
      if (flags.sql)
        write(
          join(root, file),
          "-- {{ df_1 }} is the first upstream block's output; runtime variables like {{ ds }} work too.\nSELECT * FROM {{ df_1 }}\n",
        );
      else writeBlock(root, file, flags.kind as BlockKind);
      process.stdout.write(`created ${file}; add it to a pipeline.yaml:\n  - uuid: ${uuid}\n    kind: ${flags.kind}\n    file: ${file}\n`);
    });
}

function checkName(root: string, name: string): void {
  if (!NAME.test(name))
    throw new ConfigError({ file: root, message: `"${name}" is not a valid name`, hint: 'use letters, digits, _ and -' });
}

function writeBlock(root: string, file: string, kind: BlockKind): void {
  const path = join(root, file);
  if (existsSync(path)) return;
  const body: Record<BlockKind, string> = {
    loader: `export default loader(async (ctx) => {\n  // Load data and return an Arrow table, e.g. ctx.io.http.load(url, { columns })\n  return tableFromArrays({ id: Int32Array.from([1, 2, 3]) });\n}).test('returns rows', (output) => {\n  if (output.numRows === 0) throw new Error('no rows');\n});\n`,
    transformer: `export default transformer(async (data: Table, ctx) => {\n  ctx.log.info(\`transforming \${data.numRows} rows\`);\n  return data;\n});\n`,
    exporter: `export default exporter(async (data: Table, ctx) => {\n  return (await ctx.io.lake()).write(data, \`\${ctx.pipeline}/\${ctx.ds}.parquet\`);\n});\n`,
    sensor: `export default sensor({ pollIntervalMs: 30_000 }, async (ctx) => {\n  // Return true when what you wait for is there.\n  return true;\n});\n`,
    conditional: `export default conditional(async (data: Table, ctx) => {\n  // Return false to skip everything downstream.\n  return data.numRows > 0;\n});\n`,
  };
  // Everything from 'pipekit', which resolves in any project (see engine/compile-block.ts).
  const imports = kind === 'loader' ? 'loader, tableFromArrays' : kind === 'sensor' ? 'sensor' : `${kind}, type Table`;
  write(path, `import { ${imports} } from 'pipekit';\n\n${body[kind]}`);
}

function write(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}

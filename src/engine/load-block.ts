import { isBlockDefinition, type BlockDefinition } from '../blocks/define.ts';
import { ConfigError, isPipekitError } from '../errors.ts';
import type { BlockSpec } from '../project/model.ts';
import { blockCacheDir, importBlockFile } from './block-cache.ts';

/**
 * Imports a block module (TypeScript or JavaScript, compiled once into the project's block
 * cache: see block-cache.ts) and checks that its default export is a
 * block of the kind pipeline.yaml declares. Mage checks argument counts at
 * run time with bare Exceptions; here a wrong file fails before any block runs.
 */
export async function loadBlockModule(pipelineFile: string, block: BlockSpec): Promise<BlockDefinition> {
  let mod: Record<string, unknown>;
  try {
    mod = await importBlockFile(block.path, blockCacheDir(pipelineFile));
  } catch (error) {
    if (isPipekitError(error)) throw error;
    throw new ConfigError({
      file: block.path,
      message: `could not be loaded: ${(error as Error).message}`,
      hint: 'fix the error above; `pipekit validate` checks every block file',
      cause: error,
    });
  }
  const definition = mod.default;
  if (!isBlockDefinition(definition)) {
    throw new ConfigError({
      file: block.path,
      key: 'export default',
      message: 'does not export a block',
      hint: `end the file with: export default ${block.kind}(async (${block.kind === 'loader' ? 'ctx' : 'input, ctx'}) => { … })`,
    });
  }
  if (definition.kind !== block.kind) {
    throw new ConfigError({
      file: pipelineFile,
      key: `blocks.${block.uuid}.kind`,
      message: `says ${block.kind}, but ${block.file} exports a ${definition.kind}`,
      hint: `make them agree: kind: ${definition.kind} in pipeline.yaml, or export default ${block.kind}(…)`,
    });
  }
  return definition;
}

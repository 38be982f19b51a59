import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../errors.ts';
import { pipelineSchema, type RawPipeline } from './pipeline-schema.ts';

/**
 * A pipeline.yaml parsed and checked against the schema: unknown keys, wrong types and
 * missing values are ConfigErrors naming the file and the key. The YAML parser and zod are
 * the heaviest modules a run would load, so open-project.ts imports this only on a cache miss.
 */
export function parsePipelineYaml(file: string): RawPipeline {
  const doc = parseDocument(readFileSync(file, 'utf8'), { prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new ConfigError({ file, message: `is not valid YAML: ${doc.errors[0]!.message}` });
  }
  const result = pipelineSchema.safeParse(doc.toJS());
  if (!result.success) throw schemaError(file, result.error);
  return result.data;
}

function schemaError(file: string, error: z.ZodError): ConfigError {
  const issue = error.issues[0]!;
  const key = issue.path
    .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
    .join('')
    .replace(/^\./, '');
  let message = issue.message;
  if (issue.code === 'unrecognized_keys') {
    message = `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  }
  return new ConfigError({
    file,
    key: key || undefined,
    message,
    hint: 'see "pipeline.yaml" in the README for every key a pipeline accepts',
  });
}

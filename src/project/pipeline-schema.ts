import { z } from 'zod';
import { BLOCK_KINDS } from './model.ts';

/**
 * The raw shape of pipeline.yaml. Keys are snake_case like the rest of the
 * YAML world (and Mage); `load-project.ts` turns this into the camelCase model.
 * `.strict()` everywhere: a misspelt key is an error, not a silent default.
 */
const duration = z.union([z.string(), z.number()]);
const variables = z.record(z.string(), z.unknown());

export const retrySchema = z
  .object({
    attempts: z.number().int().min(1).max(20).optional(),
    delay: duration.optional(),
    backoff: z.enum(['exponential', 'fixed']).optional(),
    max_delay: duration.optional(),
  })
  .strict();

const sqlSchema = z
  .object({
    connection: z.enum(['warehouse', 'postgres']).optional(),
    schema: z.string().optional(),
    dataset: z.string().optional(),
    table: z.string().optional(),
    write: z.enum(['replace', 'append', 'fail']).optional(),
    partition: z.string().min(1).optional(),
  })
  .strict();

export const blockSchema = z
  .object({
    uuid: z.string().regex(/^[A-Za-z_][\w-]*$/, 'a block uuid is letters, digits, _ and -, starting with a letter or _'),
    kind: z.enum(BLOCK_KINDS as [string, ...string[]]),
    file: z.string().min(1),
    upstream: z.array(z.string()).optional(),
    retry: retrySchema.optional(),
    timeout: duration.optional(),
    sql: sqlSchema.optional(),
    description: z.string().optional(),
  })
  .strict();

const triggerBase = {
  name: z.string().regex(/^[A-Za-z0-9][\w-]*$/, 'a trigger name is letters, digits, _ and -'),
  variables: variables.optional(),
  enabled: z.boolean().optional(),
  description: z.string().optional(),
};

export const triggerSchema = z.union([
  z.object({ ...triggerBase, schedule: z.string(), timezone: z.string().optional() }).strict(),
  z.object({ ...triggerBase, gcs: z.object({ bucket: z.string(), prefix: z.string().optional() }).strict() }).strict(),
  z.object({ ...triggerBase, api: z.literal(true) }).strict(),
]);

export const resourcesSchema = z
  .object({
    cpu: z.union([z.string(), z.number()]).optional(),
    memory: z
      .string()
      .regex(/^\d+(Mi|Gi)$/, 'memory is like 512Mi or 4Gi')
      .optional(),
    task_timeout: duration.optional(),
    parallelism: z.number().int().min(1).max(100).optional(),
    max_retries: z.number().int().min(0).max(10).optional(),
  })
  .strict();

export const pipelineSchema = z
  .object({
    name: z.string().optional(),
    description: z.string().optional(),
    blocks: z.array(blockSchema).min(1, 'a pipeline needs at least one block'),
    variables: variables.optional(),
    /** Per-profile overrides: `profiles: { cloud: { variables: {…} } }`. */
    profiles: z.record(z.string(), z.object({ variables: variables.optional() }).strict()).optional(),
    triggers: z.array(triggerSchema).optional(),
    retry: retrySchema.optional(),
    timeout: duration.optional(),
    concurrency: z.number().int().min(1).max(64).optional(),
    resources: resourcesSchema.optional(),
    tags: z.array(z.string()).optional(),
  })
  .strict();

export type RawPipeline = z.infer<typeof pipelineSchema>;
export type RawBlock = z.infer<typeof blockSchema>;
export type RawRetry = z.infer<typeof retrySchema>;

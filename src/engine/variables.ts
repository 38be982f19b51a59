import { ConfigError } from '../errors.ts';
import type { PipelineSpec } from '../project/model.ts';
import { renderTemplate, TemplateError, type TemplateFilter } from '../config/template.ts';
import { strftime } from '../time/strftime.ts';

/** Filters available in every template: `{{ execution_date | date('%Y/%m/%d') }}`. */
export const TEMPLATE_FILTERS: Readonly<Record<string, TemplateFilter>> = {
  date: (value, format) => strftime(toDate(value), String(format ?? '%Y-%m-%d')),
  upper: (value) => String(value).toUpperCase(),
  lower: (value) => String(value).toLowerCase(),
  default: (value, fallback) => (value === undefined || value === null || value === '' ? fallback : value),
};

/** The runtime values templates see, with Mage's names. */
export interface RuntimeValues {
  readonly execution_date: Date;
  readonly ds: string;
  readonly hr: string;
  readonly interval_start: Date;
  readonly interval_end: Date;
  readonly env: string;
  readonly pipeline: string;
  readonly run_id: string;
  readonly trigger: string;
}

export function runtimeValues(args: {
  executionDate: Date;
  intervalStart: Date;
  intervalEnd: Date;
  profile: string;
  pipeline: string;
  runId: string;
  trigger: string;
}): RuntimeValues {
  return {
    execution_date: args.executionDate,
    ds: strftime(args.executionDate, '%Y-%m-%d'),
    hr: strftime(args.executionDate, '%H'),
    interval_start: args.intervalStart,
    interval_end: args.intervalEnd,
    env: args.profile,
    pipeline: args.pipeline,
    run_id: args.runId,
    trigger: args.trigger,
  };
}

/**
 * Pipeline variables ← profile overrides ← trigger variables ← run variables
 * (`--var k=v`, the API body), like Mage's merge order. String values may be
 * templates over the runtime values (`{{ execution_date | date('%Y/%m/%d') }}`).
 */
export function resolveVariables(
  pipeline: PipelineSpec,
  profile: string,
  triggerVariables: Readonly<Record<string, unknown>>,
  runVariables: Readonly<Record<string, unknown>>,
  runtime: RuntimeValues,
  env: NodeJS.ProcessEnv = process.env,
  projectRoot?: string,
): Record<string, unknown> {
  const merged: Record<string, unknown> = {
    ...pipeline.variables,
    ...(pipeline.profileVariables[profile] ?? {}),
    ...triggerVariables,
    ...runVariables,
  };
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(merged)) {
    if (typeof value !== 'string' || !value.includes('{{')) {
      out[key] = value;
      continue;
    }
    try {
      out[key] = renderTemplate(value, {
        // project_root lets a local profile point at files the project generated.
        values: { ...runtime, project_root: projectRoot ?? process.cwd() },
        filters: TEMPLATE_FILTERS,
        functions: {
          env_var: (name, fallback) => {
            const v = env[String(name)];
            if (v !== undefined) return v;
            if (fallback !== undefined) return fallback;
            throw new TemplateError(String(name), `environment variable ${String(name)} is not set`);
          },
        },
      });
    } catch (error) {
      throw new ConfigError({
        file: pipeline.file,
        key: `variables.${key}`,
        message: (error as Error).message,
        hint: 'variables may use execution_date, ds, hr, interval_start, interval_end, env, pipeline, run_id, trigger, project_root and env_var()',
      });
    }
  }
  return out;
}

/** `k=v` pairs from the command line; values that parse as JSON (numbers, true) are typed. */
export function parseVarArgs(pairs: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new Error(`--var ${JSON.stringify(pair)}: use --var name=value`);
    const raw = pair.slice(eq + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      // A plain string.
    }
    out[pair.slice(0, eq)] = value;
  }
  return out;
}

function toDate(value: unknown): Date {
  if (value instanceof Date) return value;
  const d = new Date(String(value));
  if (Number.isNaN(d.getTime())) throw new Error(`date filter: ${JSON.stringify(value)} is not a date`);
  return d;
}

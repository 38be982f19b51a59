/** The rehearsal under vitest: the suite's PostgreSQL, and a fresh evaluation of the Pulumi program per stack. */
import { vi } from 'vitest';
import { declareStack, type DeclareOptions, type Graph } from '../../scripts/rehearsal/graph.ts';
import { startRehearsal, type Rehearsal, type RehearsalOptions } from '../../scripts/rehearsal/rehearsal.ts';
import type { Check } from '../../scripts/rehearsal/scenario.ts';

export const importProgram = async (): Promise<Record<string, unknown>> => {
  vi.resetModules();
  return (await import('../../infra/index.ts')) as Record<string, unknown>;
};

export function rehearse(options: Omit<RehearsalOptions, 'postgres'> = {}): Promise<Rehearsal> {
  return startRehearsal({
    postgres: {
      host: process.env.PIPEKIT_TEST_PG_HOST!,
      port: Number(process.env.PIPEKIT_TEST_PG_PORT),
      user: process.env.PIPEKIT_TEST_PG_USER!,
      password: process.env.PIPEKIT_TEST_PG_PASSWORD ?? '',
    },
    importProgram,
    ...options,
  });
}

export function declare(options: Omit<DeclareOptions, 'importProgram'> = {}): Promise<Graph> {
  return declareStack({ ...options, importProgram });
}

/** The failed checks, readable in an assertion message. */
export function failures(checks: readonly Check[]): string[] {
  return checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`);
}

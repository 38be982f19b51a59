/** The rehearsal under vitest: the suite's PostgreSQL, and a fresh evaluation of the Pulumi program per stack. */
import { vi } from 'vitest';
import { declareStack, type DeclareOptions, type Graph } from '../../scripts/rehearsal/graph.ts';
import { startRehearsal, type Rehearsal, type RehearsalOptions } from '../../scripts/rehearsal/rehearsal.ts';
import type { Check } from '../../scripts/rehearsal/scenario.ts';
import { testServer } from '../support/postgres.ts';

export const importProgram = async (): Promise<Record<string, unknown>> => {
  vi.resetModules();
  return (await import('../../infra/index.ts')) as Record<string, unknown>;
};

export function rehearse(options: Omit<RehearsalOptions, 'postgres'> = {}): Promise<Rehearsal> {
  return startRehearsal({
    postgres: testServer(),
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

import type { Command } from 'commander';
import type { Session } from '../engine/session.ts';
import { findProjectRoot } from './project-root.ts';

type SessionFn = (session: Session) => Promise<number>;

/** What a command reads of the project: `pipelines` alone, or (left out) every pipeline. */
export interface SessionScope {
  readonly pipelines?: readonly string[];
}

/** Options every command takes (declared on the root program). */
export interface GlobalOptions {
  project?: string;
  profile?: string;
}

export function globalOptions(command: Command): GlobalOptions {
  return command.optsWithGlobals() as GlobalOptions;
}

/**
 * Opens the project's session, runs `fn`, closes it, and exits with the code `fn` returns.
 * `scope.pipelines` names the only pipelines the command reads (a run reads one), else all.
 */
export async function withSession(command: Command, fn: SessionFn): Promise<void>;
export async function withSession(command: Command, scope: SessionScope, fn: SessionFn): Promise<void>;
export async function withSession(command: Command, ...args: [SessionFn] | [SessionScope, SessionFn]): Promise<void> {
  const [scope, fn] = args.length === 1 ? [{}, args[0]] : args;
  const options = globalOptions(command);
  // Imported here: the run store and the engine are what `list`, `new` or `--help` must not load.
  const { openSession } = await import('../engine/session.ts');
  const session = await openSession({
    projectRoot: findProjectRoot(options.project),
    profile: options.profile,
    pipelines: scope.pipelines,
  });
  let code: number;
  try {
    code = await fn(session);
  } finally {
    await session.close();
  }
  process.exitCode = code;
}

/** commander's collector for repeatable options. */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Ends the runs whose process or Cloud Run task is gone, saying so on stderr, before a command reads or starts runs. */
export async function reconcileBeforeReading(session: Session): Promise<void> {
  const { ended } = await session.reconciler.reconcile();
  for (const { run, dead } of ended) process.stderr.write(`run ${run.id} of ${run.pipeline} ${dead.status}: ${dead.reason}\n`);
}

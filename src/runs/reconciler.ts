import { hostname } from 'node:os';
import { notifyRunFinished, type RunAlertOptions } from '../alerts/slack.ts';
import { describeError } from '../errors.ts';
import type { CloudExecutions, AttemptEnd, TaskState } from '../cloud/executions.ts';
import type { RunRecord } from './model.ts';
import { isProcessAlive } from './process-identity.ts';
import type { DeadRun, RunStore } from './store.ts';

export interface ReconcilerOptions {
  readonly store: RunStore;
  /** The run's alert, sent once by whichever reconciler ends it. */
  readonly alerts?: RunAlertOptions;
  /**
   * The Run API, for runs owned by Cloud Run tasks. Default: the real one
   * (src/cloud/executions.ts, PIPEKIT_RUN_API_ENDPOINT from `env`), loaded on first need.
   */
  readonly executions?: CloudExecutions | (() => CloudExecutions);
  readonly env?: NodeJS.ProcessEnv;
  readonly host?: string;
  /**
   * Whether processes of this host can be judged (default: not on Cloud Run,
   * where every container may call itself the same host and pids mean nothing across them).
   */
  readonly judgeLocalProcesses?: boolean;
  /** Where a run that could not be checked is reported (default stderr). */
  readonly log?: (message: string) => void;
}

export interface ReconcileReport {
  /** Runs found dead and ended by this pass, with the status and reason recorded. */
  readonly ended: { readonly run: RunRecord; readonly dead: DeadRun }[];
  /** Runs whose owner could not be asked (the Run API failed); left as they are. */
  readonly unknown: { readonly run: RunRecord; readonly why: string }[];
}

/**
 * Finds runs that say `queued`/`running` but whose owner is gone, and ends
 * them with the reason: locally, a process that no longer exists (pid and
 * start token, on this host); in the cloud, a Cloud Run task attempt that
 * ended — out of memory, timed out, cancelled — as the Run API reports it.
 * Runs on other hosts, or recorded without an owner, are left alone.
 * Several reconcilers may run at once: the store lets one of them end a run,
 * and only that one sends its alert.
 */
export class Reconciler {
  private readonly host: string;
  private executions: CloudExecutions | undefined;
  private pass: Promise<void> | undefined;
  private lastPass = 0;

  private readonly judgeLocal: boolean;

  constructor(private readonly options: ReconcilerOptions) {
    this.host = options.host ?? hostname();
    this.judgeLocal = options.judgeLocalProcesses ?? !(process.env.K_SERVICE || process.env.CLOUD_RUN_JOB);
  }

  async reconcile(): Promise<ReconcileReport> {
    const ended: ReconcileReport['ended'][number][] = [];
    const unknown: ReconcileReport['unknown'][number][] = [];
    const tasks = new Map<string, Promise<TaskState>>();
    for (const run of await this.options.store.activeRuns()) {
      try {
        const dead = await this.verdict(run, tasks);
        if (dead && (await this.end(run, dead))) ended.push({ run, dead });
      } catch (error) {
        const why = describeError(error);
        unknown.push({ run, why });
        this.report(`pipekit: could not check run ${run.id}: ${why}`);
      }
    }
    return { ended, unknown };
  }

  /**
   * A pass, unless one ended less than `ms` ago or is under way (then that
   * one is awaited): the console's pages poll runs every few seconds.
   * Never throws: a failed pass is reported and the reader goes on.
   */
  async reconcileAtMostEvery(ms: number): Promise<void> {
    if (this.pass) return this.pass;
    if (Date.now() - this.lastPass < ms) return;
    this.pass = this.reconcile()
      .then(() => undefined)
      .catch((error) => this.report(`pipekit: reconciling runs failed: ${describeError(error)}`))
      .finally(() => {
        this.lastPass = Date.now();
        this.pass = undefined;
      });
    return this.pass;
  }

  /** Checks one run (the one holding a tick a new run wants); true when it was dead and is now ended. */
  async reconcileRun(run: RunRecord): Promise<boolean> {
    if (run.status !== 'queued' && run.status !== 'running') return false;
    try {
      const dead = await this.verdict(run, new Map());
      return dead !== null && (await this.end(run, dead));
    } catch (error) {
      // Unknown is not dead: the run keeps its tick.
      this.report(`pipekit: could not check run ${run.id}: ${describeError(error)}`);
      return false;
    }
  }

  async close(): Promise<void> {
    await this.pass;
    await this.executions?.close();
  }

  private report(message: string): void {
    (this.options.log ?? ((m: string) => process.stderr.write(`${m}\n`)))(message);
  }

  /** Why the run is dead, or null while its owner lives (or cannot be judged from here); throws when the Run API cannot be asked. */
  deadReason(run: RunRecord): Promise<DeadRun | null> {
    return this.verdict(run, new Map());
  }

  /** Ends the run as `dead` if it is still at its attempt and unfinished, and sends its alert; true for exactly one caller. */
  endRun(run: RunRecord, dead: DeadRun): Promise<boolean> {
    return this.end(run, dead);
  }

  private async verdict(run: RunRecord, tasks: Map<string, Promise<TaskState>>): Promise<DeadRun | null> {
    const owner = run.owner;
    if (!owner) return null;
    if (owner.cloudExecution !== null) {
      // A bare execution id (CLOUD_RUN_JOB or the project unknown) cannot be looked up.
      if (!owner.cloudExecution.startsWith('projects/')) return null;
      const executions = await this.cloud();
      const key = `${owner.cloudExecution}#${owner.cloudTaskIndex ?? 0}`;
      if (!tasks.has(key)) tasks.set(key, executions.task(owner.cloudExecution, owner.cloudTaskIndex ?? 0));
      return cloudVerdict(run, await tasks.get(key)!);
    }
    if (owner.host !== this.host || !this.judgeLocal) return null;
    if (owner.pid === process.pid || isProcessAlive(owner.pid, owner.processStart)) return null;
    return {
      status: 'failed',
      reason: `its process (pid ${owner.pid} on ${owner.host}) is gone: it was killed (kill -9, out of memory, a closed terminal) or crashed before it could record an end`,
    };
  }

  private async end(run: RunRecord, dead: DeadRun): Promise<boolean> {
    const { store, alerts } = this.options;
    if (!(await store.markDead(run.id, run.attempt, dead))) return false;
    if (alerts) {
      const ended = await store.getRun(run.id);
      if (ended) await notifyRunFinished(ended, await store.getBlockRuns(run.id), alerts);
    }
    return true;
  }

  private async cloud(): Promise<CloudExecutions> {
    if (this.executions === undefined) {
      const source = this.options.executions;
      // Loaded here: a laptop's `pipekit runs` never needs the Google client libraries.
      this.executions =
        source === undefined
          ? (await import('../cloud/executions.ts')).createCloudExecutions(this.options.env ?? process.env)
          : typeof source === 'function'
            ? source()
            : source;
    }
    return this.executions;
  }
}

/** The Run API's view of a run's task attempt, as a verdict. */
export function cloudVerdict(run: RunRecord, task: TaskState): DeadRun | null {
  const owner = run.owner!;
  const where = `Cloud Run task ${owner.cloudTaskIndex ?? 0} (attempt ${owner.cloudTaskAttempt ?? 0}) of ${shortExecution(owner.cloudExecution!)}`;
  if (task.missing) return { status: 'failed', reason: `${where}: the execution no longer exists` };
  const recordedAttempt = owner.cloudTaskAttempt ?? 0;
  if (task.running && task.attempt <= recordedAttempt) return null;
  if (task.cancelled)
    return { status: 'cancelled', reason: `${where} was cancelled${task.lastEnd?.message ? `: ${task.lastEnd.message}` : ''}` };
  const retried = task.attempt > recordedAttempt ? `; Cloud Run retries it as attempt ${task.attempt}` : '';
  return { status: 'failed', reason: `${where} ended: ${describeEnd(task.lastEnd)}${retried}` };
}

/** "out of memory: Memory limit of 512 MiB exceeded…" — the kind first, then Google's words. */
export function describeEnd(end: AttemptEnd | null): string {
  if (!end) return 'without a result (the task stopped before it could report one)';
  const said = end.message.trim();
  const how =
    end.exitCode !== null && end.exitCode !== 0 ? `exit code ${end.exitCode}` : end.termSignal ? `signal ${end.termSignal}` : null;
  let kind: string;
  if (/memory/i.test(said)) kind = 'out of memory';
  else if (end.code === 4 || /time(d)? ?out|deadline/i.test(said)) kind = 'timed out';
  else if (end.code === 1 || /cancel/i.test(said)) kind = 'cancelled';
  else if (end.code === 0 && !how) kind = 'the process exited without recording an end';
  else kind = 'the container failed';
  return `${kind}${how ? ` (${how})` : ''}${said ? `: ${said}` : ''}`;
}

function shortExecution(name: string): string {
  return name.split('/').at(-1) ?? name;
}

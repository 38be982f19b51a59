import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { RunStore } from '../../src/runs/store.ts';
import type { RunRecord } from '../../src/runs/model.ts';
import { REPO_ROOT } from './project.ts';

export interface CliProcess {
  readonly child: ChildProcess;
  readonly done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

/**
 * `node bin/pipekit.js <args>` as its own process (what a terminal or a
 * Cloud Run task runs), so a test can kill it. `track` collects the
 * processes for the test's afterAll to kill.
 */
export function spawnPipekit(args: readonly string[], env: Record<string, string | undefined>, track?: ChildProcess[]): CliProcess {
  const child = spawn(process.execPath, ['bin/pipekit.js', ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  track?.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c) => (stdout += c));
  child.stderr!.on('data', (c) => (stderr += c));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return { child, done };
}

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** `node bin/pipekit.js <args>` to its end (at most a minute): its exit code and output. `env` is added to this process's. */
export function execPipekit(args: readonly string[], env: Record<string, string>, cwd = REPO_ROOT): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(REPO_ROOT, 'bin/pipekit.js'), ...args],
      { cwd, env: { ...process.env, ...env }, timeout: 60_000 },
      (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

/** Waits until a run of `pipeline` for `date` (YYYY-MM-DD) has `block` running. */
export async function runWithBlockRunning(
  store: RunStore,
  pipeline: string,
  date: string,
  block: string,
  timeoutMs = 30_000,
): Promise<RunRecord> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const run = (await store.listRuns({ pipeline, limit: 100 })).find(
      (r) => r.executionDate.toISOString().startsWith(date) && r.status === 'running',
    );
    if (run && (await store.getBlockRuns(run.id)).some((b) => b.block === block && b.status === 'running')) return run;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no run of ${pipeline} for ${date} reached block ${block} within ${timeoutMs} ms`);
}

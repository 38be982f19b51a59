/**
 * Start-up figures (issue 16): whole processes, CPU seconds and wall time, each beside
 * `node -e 0` measured in the same rounds, interleaved so machine load hits them alike.
 *
 * - `pipekit --help` and `pipekit validate` (the example project: pipeline.yaml files, block modules)
 * - a 1-block no-op `pipekit run` (run store included)
 * - a backfill worker: the process one `--parallel` worker is, over one no-op date
 * - the console: from process start to its first answered request
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../src/services/free-port.ts';
import { measure, median, type Measured } from './measure.ts';
import { PROJECT, REPO } from './project.ts';

export interface StartupFigure {
  readonly id: string;
  readonly label: string;
  /** Medians over the rounds. */
  readonly cpuS: number;
  readonly wallS: number;
}

export interface Startup {
  readonly rounds: number;
  /** `node -e 0` first, then pipekit's. */
  readonly figures: readonly StartupFigure[];
}

interface Probe {
  readonly id: string;
  readonly label: string;
  run(): Promise<{ cpuS: number; wallS: number }>;
}

export async function measureStartup(log: string, rounds: number): Promise<Startup> {
  const bin = join(REPO, 'bin/pipekit.js');
  const cli = (args: string[], env: Record<string, string> = {}): Promise<Measured> =>
    measure(process.execPath, [bin, '--project', PROJECT, '--profile', 'local', ...args], { cwd: REPO, log, env });
  let date = 0;
  const probes: Probe[] = [
    { id: 'node', label: '`node -e 0`', run: () => measure(process.execPath, ['-e', '0'], { cwd: REPO, log }) },
    { id: 'help', label: '`pipekit --help`', run: () => measure(process.execPath, [bin, '--help'], { cwd: REPO, log }) },
    {
      id: 'validate',
      label: '`pipekit validate` (the 5 example pipelines, 17 blocks)',
      run: () => measure(process.execPath, [bin, '--project', join(REPO, 'pipelines'), 'validate'], { cwd: REPO, log }),
    },
    {
      id: 'noop',
      label: '1-block no-op `pipekit run` (TypeScript block, run store included)',
      run: () => cli(['run', 'noop_1', '--quiet']),
    },
    {
      id: 'worker',
      label: 'backfill worker (one no-op date)',
      // A fresh date each time: a date that already has a run would be skipped.
      run: () => {
        const day = new Date(Date.UTC(2020, 0, 1 + date++)).toISOString().slice(0, 10);
        return cli(['backfill', 'noop_1', '--start', day, '--end', day, '--quiet'], { MALLOC_MMAP_THRESHOLD_: '131072' });
      },
    },
    { id: 'console', label: 'console, process start → first response', run: () => consoleFirstResponse(bin, log) },
  ];
  const samples = new Map<string, { cpuS: number; wallS: number }[]>(probes.map((p) => [p.id, []]));
  for (let round = 0; round < rounds; round++) {
    for (const probe of probes) samples.get(probe.id)!.push(await probe.run());
  }
  const figures = probes.map((p) => {
    const list = samples.get(p.id)!;
    return { id: p.id, label: p.label, cpuS: median(list.map((s) => s.cpuS)), wallS: median(list.map((s) => s.wallS)) };
  });
  for (const f of figures) console.log(`  start-up ${f.label.padEnd(70)} ${f.cpuS.toFixed(3)} CPU s  ${f.wallS.toFixed(3)} s`);
  return { rounds, figures };
}

/**
 * Starts `pipekit console`, asks for a page until one comes back, and reads the process's
 * own CPU time from /proc at that moment (the console keeps running until it is stopped).
 */
async function consoleFirstResponse(bin: string, log: string): Promise<{ cpuS: number; wallS: number }> {
  const port = await freePort();
  const started = performance.now();
  const child = spawn(process.execPath, [bin, '--project', PROJECT, '--profile', 'local', 'console', '--port', String(port)], {
    cwd: REPO,
    stdio: 'ignore',
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    for (;;) {
      if (child.exitCode !== null)
        throw new Error(`the console exited with ${child.exitCode} before answering (run it by hand: see ${log})`);
      try {
        const response = await fetch(`http://127.0.0.1:${port}/`);
        await response.arrayBuffer();
        break;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    }
    const wallS = (performance.now() - started) / 1000;
    return { wallS, cpuS: processCpuSeconds(child.pid!) };
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

/** utime + stime of a running process, from /proc/<pid>/stat (in clock ticks, 100 a second on Linux). */
function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

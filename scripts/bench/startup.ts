/**
 * Start-up figures (issue 16): whole processes, CPU seconds and wall time, each beside
 * `node -e 0` measured in the same rounds, interleaved so machine load hits them alike.
 *
 * - `pipekit --help` and `pipekit validate` (the example project: pipeline.yaml files, block modules)
 * - a 1-block no-op `pipekit run` (run store included)
 * - a backfill worker: the process one `--parallel` worker is, over one no-op date
 * - the console: from process start to its first answered request
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../src/services/free-port.ts';
import { measure, median } from './measure.ts';
import { PROJECT, REPO } from './project.ts';

export interface StartupFigure {
  readonly id: string;
  readonly label: string;
  /** Medians over the rounds. */
  readonly cpuS: number;
  readonly wallS: number;
  /**
   * Instructions one run executes, counted by `valgrind --tool=callgrind` (`--startup-instructions`):
   * unlike CPU seconds, machine load does not move them, so two days' figures compare.
   */
  readonly instructions?: number;
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
  /** The process, for counting its instructions (not the console: it runs until stopped). */
  readonly argv?: () => { args: string[]; env?: Record<string, string> };
}

export async function measureStartup(log: string, rounds: number, options: { instructions?: boolean } = {}): Promise<Startup> {
  const bin = join(REPO, 'bin/pipekit.js');
  const project = (args: string[]) => [bin, '--project', PROJECT, '--profile', 'local', ...args];
  let date = 0;
  // A fresh date each time: a date that already has a run would be skipped.
  const workerArgv = () => {
    const day = new Date(Date.UTC(2020, 0, 1 + date++)).toISOString().slice(0, 10);
    return { args: project(['backfill', 'noop_1', '--start', day, '--end', day, '--quiet']), env: { MALLOC_MMAP_THRESHOLD_: '131072' } };
  };
  const probe = (id: string, label: string, argv: () => { args: string[]; env?: Record<string, string> }): Probe => ({
    id,
    label,
    argv,
    run: () => {
      const { args, env } = argv();
      return measure(process.execPath, args, { cwd: REPO, log, env });
    },
  });
  const probes: Probe[] = [
    probe('node', '`node -e 0`', () => ({ args: ['-e', '0'] })),
    probe('help', '`pipekit --help`', () => ({ args: [bin, '--help'] })),
    probe('validate', '`pipekit validate` (the 5 example pipelines, 17 blocks)', () => ({
      args: [bin, '--project', join(REPO, 'pipelines'), 'validate'],
    })),
    probe('noop', '1-block no-op `pipekit run` (TypeScript block, run store included)', () => ({
      args: project(['run', 'noop_1', '--quiet']),
    })),
    probe('worker', 'backfill worker (one no-op date)', workerArgv),
    { id: 'console', label: 'console, process start → first response', run: () => consoleFirstResponse(bin, log) },
  ];
  const samples = new Map<string, { cpuS: number; wallS: number }[]>(probes.map((p) => [p.id, []]));
  for (let round = 0; round < rounds; round++) {
    for (const probe of probes) samples.get(probe.id)!.push(await probe.run());
  }
  const figures = probes.map((p) => {
    const list = samples.get(p.id)!;
    const instructions = options.instructions && p.argv ? countInstructions(p.argv(), log) : undefined;
    return { id: p.id, label: p.label, cpuS: median(list.map((s) => s.cpuS)), wallS: median(list.map((s) => s.wallS)), instructions };
  });
  for (const f of figures) {
    const counted = f.instructions === undefined ? '' : `  ${(f.instructions / 1e9).toFixed(2)} G instructions`;
    console.log(`  start-up ${f.label.padEnd(70)} ${f.cpuS.toFixed(3)} CPU s  ${f.wallS.toFixed(3)} s${counted}`);
  }
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

/** Instructions of one run of the process and its threads, as callgrind counts them (~50× slower than the run). */
function countInstructions({ args, env }: { args: string[]; env?: Record<string, string> }, log: string): number {
  const counted = spawnSync('valgrind', ['--tool=callgrind', '--callgrind-out-file=/dev/null', process.execPath, ...args], {
    cwd: REPO,
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
  const collected = /Collected : (\d+)/.exec(counted.stderr ?? '');
  if (counted.status !== 0 || !collected) {
    throw new Error(`valgrind ${args.join(' ')} failed (exit ${counted.status}); is valgrind installed? (see ${log})`);
  }
  return Number(collected[1]);
}

/** utime + stime of a running process, from /proc/<pid>/stat (in clock ticks, 100 a second on Linux). */
function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

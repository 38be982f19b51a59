/**
 * Runs one benchmark path in its own process under GNU time, so every path —
 * Node, Python, psql — is measured the same way: whole-process wall time and
 * peak RSS (`%M`, the largest resident set of the process), and CPU seconds
 * (`%U + %S`, which include the children it waited for). The child's last
 * JSON line on stdout (phase timings), if any, comes back parsed.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Measured {
  readonly wallS: number;
  readonly peakRssMB: number;
  /** User + system CPU seconds of the process and its waited-for children. */
  readonly cpuS: number;
  readonly json: Record<string, unknown> | null;
}

export async function measure(
  command: string,
  args: readonly string[],
  options: { env?: Record<string, string>; cwd: string; log: string },
): Promise<Measured> {
  const timeFile = join(tmpdir(), `pipekit-bench-time-${process.pid}-${Date.now()}`);
  appendFileSync(options.log, `\n$ ${command} ${args.join(' ')}\n`);
  const child = spawn('/usr/bin/time', ['-f', '%e %M %U %S', '-o', timeFile, command, ...args], {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    appendFileSync(options.log, chunk);
  });
  child.stderr.on('data', (chunk: Buffer) => appendFileSync(options.log, chunk));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  const timeLine = readFileSync(timeFile, 'utf8').trim().split('\n').pop() ?? '';
  rmSync(timeFile, { force: true });
  if (code !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${code} (see ${options.log})`);
  const [wall, rssKB, user, system] = timeLine.split(/\s+/).map(Number);
  const jsonLine = stdout
    .trim()
    .split('\n')
    .reverse()
    .find((line) => line.startsWith('{'));
  return {
    wallS: wall,
    peakRssMB: rssKB / 1024,
    cpuS: user + system,
    json: jsonLine ? (JSON.parse(jsonLine) as Record<string, unknown>) : null,
  };
}

export function median(values: readonly number[]): number {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

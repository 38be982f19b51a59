/**
 * Turns the rounds into the figures: medians per path and phase, throughput,
 * ratios against pandas, DuckDB and the psql floor, and the issue's targets.
 * Markdown, so the printed table can go into the README as it is.
 */
import { availableParallelism } from 'node:os';
import { median } from './measure.ts';
import type { BenchPath, Sample } from './paths.ts';
import type { Startup } from './startup.ts';

export interface PathSummary {
  readonly id: string;
  readonly label: string;
  readonly rounds: number;
  readonly wallS: number;
  readonly cpuS: number;
  readonly peakRssMB: number;
  readonly rowsIn: number;
  readonly phases: Readonly<Record<string, number>>;
  readonly samples: readonly Sample[];
}

export interface Overhead {
  readonly noopRunS: number;
  readonly noopWallS: number;
  /** Worker processes of the parallel backfill: the machine's core count. */
  readonly parallel: number;
  readonly backfillRows: number;
  readonly backfillP1S: number;
  readonly backfillPNS: number;
  /** CPU seconds per wall second: how many cores each backfill kept busy. */
  readonly backfillP1Cores: number;
  readonly backfillPNCores: number;
}

export interface Target {
  readonly name: string;
  readonly measured: string;
  readonly goal: string;
  readonly met: boolean | null;
}

export function summarise(paths: readonly BenchPath[], samples: ReadonlyMap<string, Sample[]>): PathSummary[] {
  return paths
    .filter((p) => samples.get(p.id)?.length)
    .map((p) => {
      const list = samples.get(p.id)!;
      const phaseNames = [...new Set(list.flatMap((s) => Object.keys(s.phases)))];
      return {
        id: p.id,
        label: p.label,
        rounds: list.length,
        wallS: median(list.map((s) => s.wallS)),
        cpuS: median(list.map((s) => s.cpuS)),
        peakRssMB: median(list.map((s) => s.peakRssMB)),
        rowsIn: median(list.map((s) => s.rowsIn)),
        phases: Object.fromEntries(phaseNames.map((n) => [n, median(list.map((s) => s.phases[n] ?? NaN))])),
        samples: list,
      };
    });
}

export function targets(summary: readonly PathSummary[], overhead: Overhead | null, startup: Startup | null = null): Target[] {
  const get = (id: string) => summary.find((s) => s.id === id);
  const ratio = (a: number | undefined, b: number | undefined) => (a !== undefined && b !== undefined && b > 0 ? a / b : NaN);
  const out: Target[] = [];
  const add = (name: string, value: number, goal: number, unit = '×', less = true) =>
    out.push({
      name,
      measured: Number.isFinite(value) ? `${value.toFixed(2)}${unit}` : 'n/a',
      goal: `${less ? '≤' : '≥'} ${goal}${unit}`,
      met: Number.isFinite(value) ? (less ? value <= goal : value >= goal) : null,
    });

  const pk = get('pipekit:api_to_postgres');
  const pandas = get('pandas:postgres');
  const duck = get('duckdb');
  add('api_to_postgres end to end vs pandas (wall)', ratio(pk?.wallS, pandas?.wallS), 0.25);
  add(
    'api_to_gcs (single + partitioned) end to end vs DuckDB in one process (wall)',
    ratio(get('pipekit:api_to_gcs')?.wallS, duck?.wallS),
    1.2,
  );
  add('Postgres load phase vs psql \\copy', ratio(pk?.phases.export, get('floor:psql')?.wallS), 1.5);
  add('decode of the CSV.gz vs DuckDB read_csv', ratio(pk?.phases.decode, duck?.phases.decode), 2);
  add(
    'partitioned Parquet write vs DuckDB PARTITION_BY',
    ratio(get('pipekit:api_to_gcs_partitioned')?.phases.partitioned, duck?.phases.partitioned),
    1.5,
  );
  const peaks = ['pipekit:api_to_postgres', 'pipekit:api_to_gcs', 'pipekit:gcs_to_bigquery'].map((id) => get(id)?.peakRssMB ?? NaN);
  add('peak memory, worst example pipeline vs pandas', ratio(Math.max(...peaks), pandas?.peakRssMB), 0.5);
  if (startup) {
    const fig = (id: string) => startup.figures.find((f) => f.id === id);
    const nodeCpu = fig('node')?.cpuS;
    add('`pipekit --help` CPU vs `node -e 0`', ratio(fig('help')?.cpuS, nodeCpu), 2);
    add('1-block no-op `pipekit run`, wall', fig('noop')?.wallS ?? NaN, 0.5, ' s');
    add('1-block no-op `pipekit run` CPU vs `node -e 0`', ratio(fig('noop')?.cpuS, nodeCpu), 5);
    add('backfill worker start (one no-op date), CPU', fig('worker')?.cpuS ?? NaN, 0.3, ' s');
    add('console: process start → first response', fig('console')?.wallS ?? NaN, 1, ' s');
  }
  if (overhead) {
    add('200-block no-op DAG (run, engine only)', overhead.noopRunS, 1, ' s');
    add(
      `12-month backfill speed-up, --parallel ${overhead.parallel} vs 1`,
      overhead.backfillP1S / overhead.backfillPNS,
      0.8 * overhead.parallel,
      '×',
      false,
    );
  }
  return out;
}

export function markdown(
  summary: readonly PathSummary[],
  tgts: readonly Target[],
  overhead: Overhead | null,
  startup: Startup | null,
  machine: string,
): string {
  const pandas = summary.find((s) => s.id === 'pandas:postgres');
  const duck = summary.find((s) => s.id === 'duckdb');
  const floor = summary.find((s) => s.id === 'floor:psql');
  const s = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '–' : `${v.toFixed(2)} s`);
  const x = (a: number | undefined, b: number | undefined) =>
    a === undefined || b === undefined || !Number.isFinite(a / b) ? '–' : `${(a / b).toFixed(2)}×`;
  const lines = [
    machine,
    '',
    '| path | wall | CPU | rows/s | peak RSS | decode | transform | export | × pandas | × DuckDB | × psql |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const p of summary) {
    const extra = ['parquet', 'partitioned', 'to_csv', 'copy', 'check']
      .filter((k) => p.phases[k] !== undefined)
      .map((k) => `${k} ${s(p.phases[k])}`);
    const exportCell = p.phases.export !== undefined ? s(p.phases.export) : '–';
    lines.push(
      `| ${p.label}${extra.length ? ` <br>(${extra.join(', ')})` : ''} | ${s(p.wallS)} | ${s(p.cpuS)} | ${Number.isFinite(p.rowsIn) ? Math.round(p.rowsIn / p.wallS).toLocaleString('en-US') : '–'} | ` +
        `${Math.round(p.peakRssMB)} MB | ${s(p.phases.decode)} | ${s(p.phases.transform)} | ${exportCell} | ` +
        `${x(p.wallS, pandas?.wallS)} | ${x(p.wallS, duck?.wallS)} | ${x(p.wallS, floor?.wallS)} |`,
    );
  }
  if (startup) {
    const node = startup.figures.find((f) => f.id === 'node');
    const counted = startup.figures.some((f) => f.instructions !== undefined);
    const extra = counted ? ' instructions | × `node -e 0` |' : '';
    lines.push(
      '',
      `| start-up (whole process, median of ${startup.rounds}) | CPU | wall | CPU × \`node -e 0\` |${extra}`,
      `|---|---:|---:|---:|${counted ? '---:|---:|' : ''}`,
    );
    for (const f of startup.figures) {
      const more = counted
        ? ` ${f.instructions === undefined ? '–' : `${(f.instructions / 1e9).toFixed(2)} G`} | ${f.instructions === undefined ? '–' : x(f.instructions, node?.instructions)} |`
        : '';
      lines.push(`| ${f.label} | ${s(f.cpuS)} | ${s(f.wallS)} | ${x(f.cpuS, node?.cpuS)} |${more}`);
    }
  }
  if (overhead) {
    lines.push('', '| engine overhead | measured |', '|---|---:|');
    lines.push(`| 200-block no-op DAG: run (engine) / whole CLI process | ${s(overhead.noopRunS)} / ${s(overhead.noopWallS)} |`);
    const rows = overhead.backfillRows.toLocaleString('en-US');
    lines.push(
      `| 12-month backfill (${rows} rows a month), --parallel 1 / ${overhead.parallel}: wall | ${s(overhead.backfillP1S)} / ${s(overhead.backfillPNS)} (${(overhead.backfillP1S / overhead.backfillPNS).toFixed(2)}× faster) |`,
    );
    lines.push(
      `| same, cores kept busy (CPU s / wall s) | ${overhead.backfillP1Cores.toFixed(2)} / ${overhead.backfillPNCores.toFixed(2)} |`,
    );
    // A run that already keeps c cores busy can be sped up at most cores/c times by more processes.
    const ceiling = Math.min(overhead.parallel, availableParallelism() / overhead.backfillP1Cores);
    lines.push(
      `| same, the most --parallel ${overhead.parallel} could give on ${availableParallelism()} cores (cores / cores one run keeps busy) | ${ceiling.toFixed(2)}× |`,
    );
  }
  lines.push('', '| target | measured | goal | met |', '|---|---:|---:|:---:|');
  for (const t of tgts) lines.push(`| ${t.name} | ${t.measured} | ${t.goal} | ${t.met === null ? '–' : t.met ? 'yes' : '**no**'} |`);
  return lines.join('\n');
}

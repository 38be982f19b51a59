const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Durations in YAML: `30s`, `5m`, `1h`, `7d`, `250ms`, or a bare number of
 * seconds (Mage's `timeout: 600`). Returns milliseconds.
 */
export function parseDuration(value: string | number): number {
  if (typeof value === 'number') {
    if (!(value >= 0)) throw new Error(`a duration must be zero or more seconds, got ${value}`);
    return value * 1000;
  }
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(value);
  if (!m) throw new Error(`${JSON.stringify(value)} is not a duration: use e.g. 30s, 5m, 1h, 7d`);
  return Number(m[1]) * UNITS[m[2] ?? 's']!;
}

/** `3600000` → `1h`, for messages and Cloud Run's `timeout` strings (`3600s`). */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

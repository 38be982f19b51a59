/** Column statistics. */
import type { Table } from 'apache-arrow';
import { numericValues } from './values.ts';

/**
 * Median of the non-null, non-NaN values (pandas' `skipna`); NaN when there
 * are none. With an even count, `even: 'mean'` (default, pandas' `median()`)
 * averages the two middle values; `even: 'upper'` takes the upper one, as
 * Mage's example `fill_in_missing_values` does (`sorted(values)[floor(n / 2)]`).
 */
export function median(table: Table, column: string, options: { even?: 'mean' | 'upper' } = {}): number {
  const { values, valid } = numericValues(table, column);
  let n = 0;
  const kept = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if ((!valid || (valid[i >> 3] & (1 << (i & 7))) !== 0) && v === v) kept[n++] = v;
  }
  if (n === 0) return NaN;
  const sorted = kept.subarray(0, n).sort();
  const mid = n >> 1;
  return n % 2 === 1 || options.even === 'upper' ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

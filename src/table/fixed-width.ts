import { Type } from 'apache-arrow';

/**
 * The types whose values are a fixed number of buffer elements per row (`Data.stride`), so
 * rows copy as plain slices of `values`: `take` gathers them as words, `keepRuns` by run.
 */
const FIXED_WIDTH = new Set<Type>([
  Type.Int,
  Type.Float,
  Type.Date,
  Type.Timestamp,
  Type.Time,
  Type.Duration,
  Type.Decimal,
  Type.Interval,
  Type.FixedSizeBinary,
]);

export function isFixedWidth(typeId: Type): boolean {
  return FIXED_WIDTH.has(typeId);
}

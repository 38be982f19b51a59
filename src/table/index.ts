/** Vectorised Arrow helpers for blocks and connectors. */
export { take, takeData } from './take.ts';
export { concatTables, combineBatches } from './concat.ts';
export { filterRows, maskToIndices, maskWhere, where, countWhere } from './filter.ts';
export { renameColumns, snakeCase, selectColumns, withColumn } from './columns.ts';
export { numericValues, columnOf } from './values.ts';
export { median } from './stats.ts';
export { fillNull } from './fill.ts';
export { toDate } from './dates.ts';
export {
  arrowType,
  int64Vector,
  int32Vector,
  float64Vector,
  utf8Vector,
  boolVector,
  timestampVector,
  dateVector,
} from './make.ts';
export { readInt64, writeInt64, int64Words } from './int64.ts';

/**
 * The yellow taxi columns as the example loader block declares them (pipelines/blocks/
 * yellow-taxi-columns.ts, the Zoomcamp's dtype map): the tests' and scripts' synthetic taxi tables
 * and CSV reads take their names and types from there, so they cannot drift from the real block.
 */
import { YELLOW_TAXI_COLUMNS, YELLOW_TAXI_DATES } from '../../pipelines/blocks/yellow-taxi-columns.ts';

export { YELLOW_TAXI_COLUMNS as TAXI_COLUMNS, YELLOW_TAXI_DATES as TAXI_DATES };

const ofType = (type: string) => Object.keys(YELLOW_TAXI_COLUMNS).filter((name) => YELLOW_TAXI_COLUMNS[name] === type);

/** The nullable Int64 columns, in the file's order. */
export const TAXI_INT_COLUMNS: readonly string[] = ofType('int64');
/** The float64 columns, in the file's order. */
export const TAXI_FLOAT_COLUMNS: readonly string[] = ofType('float64');

import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ColumnType } from '../../src/io/types.ts';

/** The shared real-data samples next to the repo, or undefined when this checkout has none. */
export const sharedData = resolve(import.meta.dirname, '../../../shared/data');
export const hasSharedData = existsSync(resolve(sharedData, 'yellow_tripdata_2021-01.head.csv'));
if (!hasSharedData) console.warn(`skipping shared-data tests: ${sharedData} is absent`);

/** The dtype map of the Zoomcamp loader block. */
export const TAXI_COLUMNS: Record<string, ColumnType> = {
  VendorID: 'int64',
  passenger_count: 'int64',
  RatecodeID: 'int64',
  PULocationID: 'int64',
  DOLocationID: 'int64',
  payment_type: 'int64',
  trip_distance: 'float64',
  fare_amount: 'float64',
  extra: 'float64',
  mta_tax: 'float64',
  tip_amount: 'float64',
  tolls_amount: 'float64',
  improvement_surcharge: 'float64',
  total_amount: 'float64',
  congestion_surcharge: 'float64',
  store_and_fwd_flag: 'string',
};
export const TAXI_DATES = ['tpep_pickup_datetime', 'tpep_dropoff_datetime'];

/** Bytes as a stream cut into pieces of `size`, to exercise records split across chunks. */
export async function* chunked(text: string | Uint8Array, size = 7): AsyncIterable<Uint8Array> {
  const bytes = typeof text === 'string' ? new TextEncoder().encode(text) : text;
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

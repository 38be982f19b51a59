import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

/** The shared real-data samples next to the repo, or undefined when this checkout has none. */
export const sharedData = resolve(import.meta.dirname, '../../../shared/data');
export const hasSharedData = existsSync(resolve(sharedData, 'yellow_tripdata_2021-01.head.csv'));
if (!hasSharedData) console.warn(`skipping shared-data tests: ${sharedData} is absent`);

/** The dtype map of the Zoomcamp loader block. */
export { TAXI_COLUMNS, TAXI_DATES } from '../support/taxi-columns.ts';

/** Bytes as a stream cut into pieces of `size`, to exercise records split across chunks. */
export async function* chunked(text: string | Uint8Array, size = 7): AsyncIterable<Uint8Array> {
  const bytes = typeof text === 'string' ? new TextEncoder().encode(text) : text;
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

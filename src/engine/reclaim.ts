/**
 * Returns the memory of released block outputs to the OS before the next
 * block allocates its own.
 *
 * Why: a month of taxi data is a few hundred MB of ArrayBuffers behind a few
 * hundred small JS objects. V8 schedules collections by JS heap pressure, so
 * a released table can stay resident while the exporters after it allocate:
 * the process peaks at both. One full collection when a big output is dropped
 * costs a few milliseconds (the JS heap is small) and keeps the peak at the
 * largest live set: measured on the taxi month, the decoded table (190 MB)
 * stayed resident through both exporters of api_to_gcs without it.
 */
import { Table } from 'apache-arrow';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Outputs smaller than this are left to V8's own schedule. */
const WORTH_COLLECTING = 32 * 2 ** 20;

let collect: (() => void) | null | undefined;

/** A full collection, when this Node allows exposing `gc` (it does unless flags are locked down). */
export function collectGarbage(): void {
  if (collect === undefined) {
    try {
      setFlagsFromString('--expose-gc');
      collect = runInNewContext('gc') as () => void;
    } catch {
      collect = null;
    }
  }
  collect?.();
}

/**
 * Frees released ArrayBuffers before the caller goes on. Two collections
 * with a pause between: V8 frees ArrayBuffer memory on a background sweeper,
 * and a single collection (even two back to back) was measured to leave
 * a dropped table's buffers allocated.
 */
export async function reclaimMemory(): Promise<void> {
  collectGarbage();
  await new Promise((resolve) => setTimeout(resolve, 20));
  collectGarbage();
}

/** True when dropping `output` frees enough memory to be worth a collection. */
export function isBigOutput(output: unknown): boolean {
  if (!(output instanceof Table)) return false;
  let bytes = 0;
  for (const batch of output.batches) bytes += batch.data.byteLength;
  return bytes >= WORTH_COLLECTING;
}

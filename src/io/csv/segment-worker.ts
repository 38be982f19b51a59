/** The CSV decoder's second thread: parses the segments it is sent (see segment.ts) and sends their columns back. */
import { parentPort } from 'node:worker_threads';
import { parseSegment, type SegmentJob, transferList } from './segment.ts';

parentPort!.on('message', (job: SegmentJob) => {
  try {
    const result = parseSegment(job.bytes, job.types, job.delimiter);
    parentPort!.postMessage({ id: job.id, result }, transferList(result));
  } catch (error) {
    parentPort!.postMessage({ id: job.id, error: (error as Error)?.message ?? String(error) });
  }
});

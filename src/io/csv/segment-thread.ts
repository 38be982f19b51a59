/**
 * The decoder's worker thread, started on the first segment it is given and
 * ended by `close()`. Segments go over by transfer (the sender's bytes are
 * detached) and their columns come back the same way.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ColumnType } from '../types.ts';
import type { SegmentResult } from './segment.ts';

interface Waiter {
  readonly resolve: (result: SegmentResult) => void;
  readonly reject: (error: Error) => void;
}

export class SegmentThread {
  private worker: Worker | undefined;
  private nextId = 0;
  private readonly waiting = new Map<number, Waiter>();

  /** Segments sent and not yet back. */
  get pending(): number {
    return this.waiting.size;
  }

  /** Parses `bytes` (whose whole buffer is handed over) on the worker. */
  parse(bytes: Uint8Array, types: readonly (ColumnType | undefined)[], delimiter: number): Promise<SegmentResult> {
    this.worker ??= this.start();
    const id = ++this.nextId;
    const worker = this.worker;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      worker.postMessage({ id, bytes, types, delimiter }, [bytes.buffer as ArrayBuffer]);
    });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
  }

  private start(): Worker {
    // From the sources (tests, PIPEKIT_FROM_SOURCE) the worker is TypeScript too, compiled by tsx's
    // require hook: Node 20 does not apply module.register() hooks inside worker threads.
    const worker = import.meta.url.endsWith('.ts')
      ? new Worker(
          `require(${JSON.stringify(createRequire(import.meta.url).resolve('tsx/cjs/api'))}).register();
           require(${JSON.stringify(fileURLToPath(new URL('./segment-worker.ts', import.meta.url)))});`,
          { eval: true },
        )
      : new Worker(new URL('./segment-worker.js', import.meta.url));
    worker.on('message', (message: { id: number; result?: SegmentResult; error?: string }) => {
      const waiter = this.waiting.get(message.id);
      this.waiting.delete(message.id);
      if (message.error !== undefined) waiter?.reject(new Error(`CSV decoder thread: ${message.error}`));
      else waiter?.resolve(message.result!);
    });
    const failAll = (error: Error) => {
      for (const waiter of this.waiting.values()) waiter.reject(error);
      this.waiting.clear();
    };
    worker.on('error', failAll);
    worker.on('exit', (code) => failAll(new Error(`CSV decoder thread exited (code ${code}) with segments unparsed`)));
    return worker;
  }
}

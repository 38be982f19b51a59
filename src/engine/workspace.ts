import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { pipeline as pipeStreams } from 'node:stream/promises';
import { RecordBatchStreamWriter, Table, tableFromIPC } from 'apache-arrow';

/**
 * Block outputs kept between blocks and runs (Mage's `.variables` folder):
 * `<root>/<pipeline>/<run id>/<block>.arrow` (Arrow IPC stream) or `.json`.
 * They make `run --block` and `--resume` possible and feed the console's
 * previews. A local folder: the laptop's `.pipekit/workspace`, Filestore
 * (mounted over NFS) on Cloud Run.
 */
export class Workspace {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  /** Persists a block output; returns its URI and row count (null for non-tables). */
  async save(pipeline: string, runId: string, block: string, value: unknown): Promise<{ uri: string; rows: number | null }> {
    const dir = join(this.root, pipeline, runId);
    await mkdir(dir, { recursive: true });
    if (value instanceof Table) {
      const path = join(dir, `${block}.arrow`);
      const tmp = `${path}.tmp-${process.pid}`;
      // Streamed batch by batch: a 1.4M-row table is never copied into one buffer.
      const writer = new RecordBatchStreamWriter();
      const done = pipeStreams(writer.toNodeStream(), createWriteStream(tmp));
      for (const batch of value.batches) writer.write(batch);
      writer.finish();
      await done;
      await rename(tmp, path);
      return { uri: path, rows: value.numRows };
    }
    const path = join(dir, `${block}.json`);
    await writeFile(path, JSON.stringify(value ?? null));
    return { uri: path, rows: Array.isArray(value) ? value.length : null };
  }

  /** Reads an output saved by `save`. */
  async load(uri: string): Promise<unknown> {
    if (!existsSync(uri)) {
      throw new Error(`block output ${uri} is gone (cleaned by retention?): rerun its block first`);
    }
    if (uri.endsWith('.arrow')) return tableFromIPC(await readFile(uri));
    return JSON.parse(await readFile(uri, 'utf8'));
  }

  /**
   * Removes run folders older than `retentionMs`, except the ones in `keep`
   * (the latest output of each block, which single-block reruns need).
   */
  async clean(retentionMs: number, keep: ReadonlySet<string> = new Set()): Promise<number> {
    if (!existsSync(this.root)) return 0;
    const cutoff = Date.now() - retentionMs;
    let removed = 0;
    for (const pipeline of await readdir(this.root)) {
      const pipelineDir = join(this.root, pipeline);
      if (!(await stat(pipelineDir)).isDirectory()) continue;
      for (const run of await readdir(pipelineDir)) {
        const runDir = join(pipelineDir, run);
        const info = await stat(runDir);
        if (!info.isDirectory() || info.mtimeMs >= cutoff) continue;
        if ([...keep].some((uri) => dirname(uri) === runDir)) continue;
        await rm(runDir, { recursive: true, force: true });
        removed++;
      }
    }
    return removed;
  }

  /** Byte size and path of an output, for the console. */
  async describe(uri: string): Promise<{ bytes: number } | null> {
    return existsSync(uri) ? { bytes: (await stat(uri)).size } : null;
  }
}

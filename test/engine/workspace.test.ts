import { mkdtempSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { tableFromArrays, Table } from 'apache-arrow';
import { afterEach, describe, expect, it } from 'vitest';
import { Workspace } from '../../src/engine/workspace.ts';

let root: string | undefined;
afterEach(() => root && rmSync(root, { recursive: true, force: true }));

describe('the run workspace', () => {
  it('round-trips Arrow tables (multi-batch) and JSON values', async () => {
    root = mkdtempSync(join(tmpdir(), 'ws-'));
    const ws = new Workspace(root);
    const a = tableFromArrays({ x: Float64Array.from([1, 2]) });
    const table = new Table([...a.batches, ...a.batches]);
    const saved = await ws.save('p', 'r1', 'b', table);
    expect(saved.rows).toBe(4);
    const back = (await ws.load(saved.uri)) as Table;
    expect(back.numRows).toBe(4);
    expect([...back.getChild('x')!]).toEqual([1, 2, 1, 2]);
    const json = await ws.save('p', 'r1', 'e', { rows: 4, target: 't' });
    expect(await ws.load(json.uri)).toEqual({ rows: 4, target: 't' });
  });

  it('cleans runs older than the retention, keeping the outputs it is told to keep', async () => {
    root = mkdtempSync(join(tmpdir(), 'ws-'));
    const ws = new Workspace(root);
    const t = tableFromArrays({ x: Float64Array.from([1]) });
    const old = await ws.save('p', 'old', 'b', t);
    const kept = await ws.save('p', 'kept', 'b', t);
    const fresh = await ws.save('p', 'fresh', 'b', t);
    const past = new Date(Date.now() - 10 * 86_400_000);
    utimesSync(dirname(old.uri), past, past);
    utimesSync(dirname(kept.uri), past, past);
    expect(await ws.clean(7 * 86_400_000, new Set([kept.uri]))).toBe(1);
    await expect(ws.load(old.uri)).rejects.toThrow(/cleaned by retention/);
    expect(((await ws.load(kept.uri)) as Table).numRows).toBe(1);
    expect(((await ws.load(fresh.uri)) as Table).numRows).toBe(1);
  });
});

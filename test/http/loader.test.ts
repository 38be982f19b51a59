import { createServer, type Server } from 'node:http';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tableToIPC, tableFromArrays } from 'apache-arrow';
import { writeParquet, Table as WasmTable } from 'parquet-wasm';
import { createHttpLoader } from '../../src/io/http/index.ts';
import { ConnectionError, DataError, NonRetriableError } from '../../src/errors.ts';

const CSV = 'VendorID,passenger_count,trip_distance\n1,1,2.10\n2,0,.20\n';
let server: Server;
let base = '';
const dir = mkdtempSync(join(tmpdir(), 'pipekit-http-'));

beforeAll(async () => {
  const parquet = writeParquet(WasmTable.fromIPCStream(tableToIPC(tableFromArrays({ a: Int32Array.from([1, 2, 3]) }), 'stream')));
  const routes: Record<string, (res: import('node:http').ServerResponse) => void> = {
    '/trips.csv': (res) => res.end(CSV),
    '/trips.csv.gz': (res) => res.end(gzipSync(CSV)),
    '/sneaky.csv': (res) => res.end(gzipSync(CSV)), // gzip bytes without .gz in the name
    '/trips.parquet': (res) => res.end(parquet),
    '/empty.csv': (res) => res.end(),
    '/broken.csv.gz': (res) => res.end(gzipSync(CSV).subarray(0, 20)),
    '/busy.csv': (res) => {
      res.statusCode = 503;
      res.end('try later');
    },
  };
  server = createServer((req, res) => {
    const route = routes[req.url ?? ''];
    if (route) route(res);
    else {
      res.statusCode = 404;
      res.end('not found');
    }
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const address = server.address() as { port: number };
  base = `http://127.0.0.1:${address.port}`;
  writeFileSync(join(dir, 'local.csv.gz'), gzipSync(CSV));
});
afterAll(async () => {
  await new Promise((ok) => server.close(ok));
  rmSync(dir, { recursive: true, force: true });
});

describe('createHttpLoader', () => {
  const columns = { VendorID: 'int64', passenger_count: 'int64', trip_distance: 'float64' } as const;

  it('loads plain, gzipped (by name or by magic bytes) CSV over HTTP', async () => {
    const logs: string[] = [];
    const http = createHttpLoader({ log: (m) => logs.push(m) });
    for (const path of ['/trips.csv', '/trips.csv.gz', '/sneaky.csv']) {
      const table = await http.load(base + path, { columns });
      expect(table.numRows).toBe(2);
      expect(table.getChild('trip_distance')!.get(1)).toBe(0.2);
    }
    expect(logs.some((l) => l.includes('2 rows from'))).toBe(true);
  });

  it('loads file:// URLs and absolute paths', async () => {
    const http = createHttpLoader();
    const path = join(dir, 'local.csv.gz');
    expect((await http.load(path)).numRows).toBe(2);
    const { report } = await http.loadWithReport(pathToFileURL(path).href);
    expect(report.rows).toBe(2);
  });

  it('loads parquet', async () => {
    const table = await createHttpLoader().load(`${base}/trips.parquet`);
    expect([...table.getChild('a')!]).toEqual([1, 2, 3]);
  });

  it('makes a 404 non-retriable and names the URL and status', async () => {
    const error = await createHttpLoader()
      .load(`${base}/yellow_tripdata_2021-13.csv.gz`)
      .catch((e) => e);
    expect(error).toBeInstanceOf(NonRetriableError);
    expect(error.message).toContain(`${base}/yellow_tripdata_2021-13.csv.gz`);
    expect(error.message).toContain('404');
    expect(error.cause).toBeInstanceOf(ConnectionError);
  });

  it('keeps a 503 retriable and a refused connection a ConnectionError', async () => {
    const busy = await createHttpLoader()
      .load(`${base}/busy.csv`)
      .catch((e) => e);
    expect(busy).toBeInstanceOf(ConnectionError);
    expect(busy.message).toContain('503');
    const refused = await createHttpLoader()
      .load('http://127.0.0.1:1/x.csv')
      .catch((e) => e);
    expect(refused).toBeInstanceOf(ConnectionError);
    expect(refused.target).toBe('http://127.0.0.1:1/x.csv');
  });

  it('never returns an empty table for an empty or broken body', async () => {
    await expect(createHttpLoader().load(`${base}/empty.csv`)).rejects.toBeInstanceOf(DataError);
    await expect(createHttpLoader().load(`${base}/broken.csv.gz`)).rejects.toBeInstanceOf(DataError);
    await expect(createHttpLoader().load(join(dir, 'missing.csv'))).rejects.toBeInstanceOf(NonRetriableError);
  });
});

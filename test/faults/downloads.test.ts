/**
 * Downloads that break off or stall (issue 14 items 7-8), from a local HTTP
 * server: each is a retriable ConnectionError naming the URL (and how long it
 * waited), never an unhandled 'error' event, and the block's signal stops it.
 */
import { createServer, type ServerResponse, type Server } from 'node:http';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CancelledError, ConnectionError } from '../../src/errors.ts';
import { createHttpLoader } from '../../src/io/http/index.ts';
import { yellowTaxiCsv } from '../../src/samples/yellow-taxi.ts';
import { faultProject, rawTraces, runCli, runStatuses, type FaultProject } from './harness.ts';

const csv = Buffer.from([...yellowTaxiCsv({ rows: 20_000, seed: 3 })].join(''), 'latin1');
const gz = gzipSync(csv);
let server: Server;
let base = '';
let flakyHits = 0;

/** Sends the head of `body` with the full Content-Length, then cuts the connection. */
function cutOff(res: ServerResponse, body: Buffer): void {
  res.writeHead(200, { 'content-length': body.length });
  res.write(body.subarray(0, body.length >> 1), () => setTimeout(() => res.socket?.destroy(), 20));
}

beforeAll(async () => {
  server = createServer((req, res) => {
    switch (req.url) {
      case '/cut.csv.gz':
        return cutOff(res, gz);
      case '/cut.csv':
        return cutOff(res, csv);
      case '/silent.csv':
        return; // never answers
      case '/stall.csv.gz':
        res.writeHead(200, { 'content-length': gz.length });
        return void res.write(gz.subarray(0, gz.length >> 1)); // then nothing
      case '/flaky.csv.gz':
        return ++flakyHits === 1 ? cutOff(res, gz) : res.end(gz);
      default:
        res.statusCode = 404;
        res.end();
    }
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((ok) => server.close(ok));
});

describe('a download that breaks off or stalls', () => {
  const http = createHttpLoader({ connectTimeoutMs: 500, idleTimeoutMs: 500 });

  it.each(['/cut.csv.gz', '/cut.csv'])('%s cut off mid-file: a retriable ConnectionError naming the URL', async (path) => {
    const error = await http.load(base + path).catch((e) => e);
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error.retriable).toBe(true);
    expect(error.message).toContain(base + path);
    expect(error.message).toMatch(/broke off/);
  });

  it('a server that never answers fails after the connect timeout, saying how long it waited', async () => {
    const started = Date.now();
    const error = await http.load(`${base}/silent.csv`).catch((e) => e);
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error.message).toBe(`${base}/silent.csv: the server did not answer within 500ms`);
    expect(error.hint).toMatch(/HTTP_CONNECT_TIMEOUT/);
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('a transfer that stalls fails after the idle timeout, saying how long it waited and how much came', async () => {
    const started = Date.now();
    const error = await http.load(`${base}/stall.csv.gz`).catch((e) => e);
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error.retriable).toBe(true);
    expect(error.message).toMatch(
      new RegExp(`^${base}/stall.csv.gz: the transfer stalled: nothing received for 500ms after \\d+\\.\\d MB$`),
    );
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it("the block's signal stops a stalled download at once, with the signal's reason", async () => {
    const patient = createHttpLoader({ idleTimeoutMs: 60_000, connectTimeoutMs: 60_000 });
    for (const path of ['/stall.csv.gz', '/silent.csv']) {
      const controller = new AbortController();
      setTimeout(() => controller.abort(new CancelledError('block load cancelled')), 200);
      const started = Date.now();
      await expect(patient.load(base + path, { signal: controller.signal })).rejects.toThrow('block load cancelled');
      expect(Date.now() - started).toBeLessThan(2_000);
    }
  });
});

describe('in a run', () => {
  let project: FaultProject;
  beforeAll(async () => {
    project = await faultProject('downloads', { small: 10, big: 10 }, { HTTP_IDLE_TIMEOUT: '1s', HTTP_CONNECT_TIMEOUT: '2s' });
    project.write(
      'load_only/pipeline.yaml',
      'blocks:\n  - { uuid: load, kind: loader, file: blocks/load.ts }\nretry: { attempts: 2, delay: 0s }\n',
    );
  });
  afterAll(async () => project?.close());

  it('a download cut off once is retried and the run succeeds; one that stalls fails the run cleanly', async () => {
    const flaky = await runCli(project, 'load_only', { vars: { url: `${base}/flaky.csv.gz` } });
    expect(flaky.code, flaky.stderr).toBe(0);
    expect(flakyHits).toBe(2);

    const stalled = await runCli(project, 'load_only', { vars: { url: `${base}/stall.csv.gz` } });
    expect(stalled.code, stalled.stderr).toBe(1);
    expect(stalled.hung).toBe(false);
    expect(rawTraces(stalled.stdout + stalled.stderr)).toEqual([]);
    expect(stalled.stderr).toContain(`${base}/stall.csv.gz: the transfer stalled: nothing received for 1s`);
    const [latest] = await runStatuses(project.db);
    expect(latest).toMatchObject({ status: 'failed', blocks: { load: 'failed' } });
  });
});

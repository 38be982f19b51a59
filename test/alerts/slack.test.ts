import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { notifyRunFinished } from '../../src/alerts/slack.ts';
import type { BlockRunRecord, RunRecord } from '../../src/runs/model.ts';

let server: Server;
let url: string;
let received: { path: string; body: any }[] = [];
let answer = 200;

beforeAll(async () => {
  server = createServer((req, res) => {
    let text = '';
    req.on('data', (c) => (text += c));
    req.on('end', () => {
      received.push({ path: req.url ?? '', body: JSON.parse(text) });
      res.writeHead(answer);
      res.end(answer === 200 ? 'ok' : 'invalid_token');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/services/T000/B000/secret`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));
beforeEach(() => {
  received = [];
  answer = 200;
});

const run = (status: RunRecord['status']): RunRecord => ({
  id: '20210101T000000-abc123',
  pipeline: 'yellow_taxi',
  trigger: 'daily',
  executionDate: new Date('2021-01-01T00:00:00Z'),
  intervalStart: new Date('2021-01-01T00:00:00Z'),
  intervalEnd: new Date('2021-01-02T00:00:00Z'),
  profile: 'local',
  variables: {},
  status,
  createdAt: new Date('2021-01-02T00:00:00Z'),
  startedAt: new Date('2021-01-02T00:00:01Z'),
  finishedAt: new Date('2021-01-02T00:00:13Z'),
  error: status === 'failed' ? 'load_taxi: HTTP 404' : null,
  backfillId: null,
  resumedFrom: null,
  dedupeKey: null,
  attempt: 1,
  owner: null,
});
const block = (name: string, status: BlockRunRecord['status'], error: string | null = null): BlockRunRecord => ({
  runId: '20210101T000000-abc123',
  block: name,
  status,
  attempts: status === 'failed' ? 3 : 1,
  startedAt: null,
  finishedAt: null,
  rowsOut: null,
  error,
  outputUri: null,
  reusedFrom: null,
});

describe('notifyRunFinished', () => {
  it('posts a Slack message for a failed run, with the failing block and the console link', async () => {
    const sent = await notifyRunFinished(
      run('failed'),
      [block('load_taxi', 'failed', 'HTTP 404 <from server>'), block('export', 'upstream_failed')],
      {
        webhookUrl: url,
        consoleUrl: 'https://console.example.com/',
      },
    );
    expect(sent).toBe(true);
    const { body } = received[0]!;
    expect(body.text).toContain('yellow_taxi failed');
    expect(body.text).toContain('https://console.example.com/#/runs/20210101T000000-abc123');
    expect(body.text).toContain('in 12.0s');
    const json = JSON.stringify(body.blocks);
    expect(json).toContain('`load_taxi` after 3 attempts: HTTP 404 &lt;from server&gt;');
    expect(body.blocks.at(-1)).toMatchObject({
      type: 'actions',
      elements: [{ url: 'https://console.example.com/#/runs/20210101T000000-abc123' }],
    });
  });

  it('skips succeeded runs unless asked', async () => {
    expect(await notifyRunFinished(run('succeeded'), [], { webhookUrl: url })).toBe(false);
    expect(received).toHaveLength(0);
    expect(await notifyRunFinished(run('succeeded'), [block('a', 'succeeded')], { webhookUrl: url, onSuccess: true })).toBe(true);
    expect(received[0]!.body.text).toContain('yellow_taxi succeeded');
  });

  it('a failing webhook is logged without its secret path and never throws', async () => {
    answer = 500;
    const logs: string[] = [];
    expect(await notifyRunFinished(run('failed'), [], { webhookUrl: url, log: (m) => logs.push(m) })).toBe(false);
    expect(logs[0]).toMatch(/answered 500/);
    const unreachable = 'http://127.0.0.1:1/services/T000/B000/secret';
    expect(await notifyRunFinished(run('cancelled'), [], { webhookUrl: unreachable, log: (m) => logs.push(m), timeoutMs: 2000 })).toBe(
      false,
    );
    expect(logs[1]).toContain('127.0.0.1:1');
    expect(logs[1]).not.toContain('secret');
  });
});

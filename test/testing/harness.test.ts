import { tableFromArrays, type Table } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import {
  BlockTestError,
  BlockTimeoutError,
  CancelledError,
  ConfigError,
  conditional,
  loader,
  runBlockForTest,
  sensor,
  transformer,
} from '../../src/index.ts';

describe("runBlockForTest runs a block through the engine's attempt", () => {
  it('runs the block and its tests, with ds/hr and the interval computed as in a run', async () => {
    const seen = transformer(async (trips: Table, ctx) => {
      ctx.log.info(`${ctx.ds} ${ctx.hr} ${ctx.intervalEnd.toISOString()} ${ctx.block} ${ctx.env}`);
      return trips;
    }).test('keeps the rows', (output) => {
      if (output.numRows !== 2) throw new Error('rows were lost');
    });
    const trips = tableFromArrays({ n: Int32Array.from([1, 2]) });
    const { output, logs } = await runBlockForTest(seen, {
      inputs: [trips],
      executionDate: new Date('2021-01-15T05:00:00Z'),
      uuid: 'keep_rows',
    });
    expect(output).toBe(trips);
    expect(logs).toEqual(['2021-01-15 05 2021-01-16T05:00:00.000Z keep_rows test', '1/1 tests passed']);
  });

  it('a failing test fails it with BlockTestError naming the block and test', async () => {
    const broken = loader(async () => 1).test('is two', (n) => {
      if (n !== 2) throw new Error(`got ${n}`);
    });
    const error = await runBlockForTest(broken, { uuid: 'one' }).catch((e) => e);
    expect(error).toBeInstanceOf(BlockTestError);
    expect(error.message).toMatch(/one.*is two.*got 1/s);
  });

  it('a sensor polls until it is satisfied', async () => {
    let polls = 0;
    const ready = sensor({ pollIntervalMs: 5 }, async () => ++polls === 3);
    expect((await runBlockForTest(ready)).output).toBe(true);
    expect(polls).toBe(3);
  });

  it('a conditional must answer true or false', async () => {
    const error = await runBlockForTest(conditional(async () => 'yes' as unknown as boolean)).catch((e) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain('a conditional block must return true or false');
  });

  it('the timeout applies and aborts ctx.signal; a cancel stops it too', async () => {
    let aborted: unknown;
    const slow = loader(async (ctx) => {
      await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve));
      aborted = ctx.signal.reason;
    });
    const timedOut = await runBlockForTest(slow, { timeout: '20ms', uuid: 'slow' }).catch((e) => e);
    expect(timedOut).toBeInstanceOf(BlockTimeoutError);
    expect(timedOut.message).toContain('block slow timed out after 20ms');
    expect(aborted).toBe(timedOut);

    const controller = new AbortController();
    const pending = runBlockForTest(slow, { signal: controller.signal });
    controller.abort();
    await expect(pending).rejects.toBeInstanceOf(CancelledError);
  });
});

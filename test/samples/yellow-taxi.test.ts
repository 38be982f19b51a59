import { createReadStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGunzip, gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { writeYellowTaxiSample, YELLOW_TAXI_HEADER } from '../../src/samples/yellow-taxi.ts';
import { formatDistance, formatMoney } from '../../src/samples/tlc-format.ts';
import { decodeCsv } from '../../src/io/csv/decode.ts';
import { countWhere, toDate } from '../../src/table/index.ts';
import { TAXI_COLUMNS, TAXI_DATES } from '../csv/helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'pipekit-sample-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('writeYellowTaxiSample', () => {
  it('is deterministic for a seed and differs across seeds', async () => {
    await writeYellowTaxiSample(join(dir, 'a.csv.gz'), { rows: 5000, seed: 7 });
    await writeYellowTaxiSample(join(dir, 'b.csv.gz'), { rows: 5000, seed: 7 });
    await writeYellowTaxiSample(join(dir, 'c.csv.gz'), { rows: 5000, seed: 8 });
    const text = (f: string) => gunzipSync(readFileSync(join(dir, f))).toString('latin1');
    expect(text('a.csv.gz')).toBe(text('b.csv.gz'));
    expect(text('a.csv.gz')).not.toBe(text('c.csv.gz'));
    expect(text('a.csv.gz').split('\n')[0]).toBe(YELLOW_TAXI_HEADER);
  });

  it('has the quirks of the real month', async () => {
    const rows = 50_000;
    const path = join(dir, 'month.csv.gz');
    await writeYellowTaxiSample(path, { rows, seed: 1, month: '2021-01' });
    const { table, report } = await decodeCsv(createReadStream(path).pipe(createGunzip()), {
      sourceName: path,
      columns: TAXI_COLUMNS,
      parseDates: TAXI_DATES,
    });
    expect(report.rows).toBe(rows);
    const zeroPassengers = countWhere(table, 'passenger_count', (v) => v === 0) / rows;
    expect(zeroPassengers).toBeGreaterThan(0.012);
    expect(zeroPassengers).toBeLessThan(0.03);
    expect(countWhere(table, 'total_amount', (v) => v < 0)).toBeGreaterThan(0);
    expect(countWhere(table, 'trip_distance', (v) => v === 0)).toBeGreaterThan(0);
    // The unknown-vendor block: the last ~7.2% of rows, with empty codes.
    const vendor = table.getChild('VendorID')!;
    expect(vendor.nullCount).toBe(Math.round(rows * 0.072));
    expect(vendor.get(rows - 1)).toBe(null);
    expect(vendor.get(0)).not.toBe(null);
    for (const c of ['passenger_count', 'RatecodeID', 'store_and_fwd_flag', 'payment_type'])
      expect(table.getChild(c)!.nullCount).toBe(vendor.nullCount);
    // Pickups cover the month, with a few stragglers on 2020-12-31.
    const days = toDate(table.getChild('tpep_pickup_datetime')!);
    const seen = new Set<number>();
    let stragglers = 0;
    for (let i = 0; i < days.length; i++) {
      const d = days.get(i) as number;
      seen.add(d);
      if (d < Date.UTC(2021, 0, 1)) stragglers++;
    }
    expect(stragglers).toBeGreaterThan(0);
    expect(stragglers).toBeLessThan(20);
    expect(seen.has(Date.UTC(2021, 0, 31))).toBe(true);
    const raw = gunzipSync(readFileSync(path)).toString('latin1');
    expect(raw).toMatch(/,\.\d\d,/); // distances like .20
    expect(raw).not.toMatch(/^\d+\.0,/m); // integer codes without .0
  });

  it('formats numbers like the TLC', () => {
    expect([0.2, 2.1, 0, 14.7].map(formatDistance)).toEqual(['.20', '2.10', '.00', '14.70']);
    expect([8, 16.5, 51.95, -4.3, 0.3].map(formatMoney)).toEqual(['8', '16.5', '51.95', '-4.3', '0.3']);
  });
});

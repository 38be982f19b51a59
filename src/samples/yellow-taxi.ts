/**
 * A seeded, realistic NYC yellow-taxi month in the TLC's own CSV layout, for
 * demos, tests and benchmarks without downloading 27 MB. It reproduces what
 * the Zoomcamp module trips over: the exact 18-column header, TLC number
 * formatting (`.20`, integer codes without `.0`), ~2% `passenger_count` 0,
 * a few pickups on the last hour of the previous month, zero distances,
 * negative totals (refunds), and the block of rows from unknown vendors at
 * the end of the file (empty VendorID, passenger_count, RatecodeID,
 * store_and_fwd_flag and payment_type) that makes pandas read those
 * columns as floats.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { finished, pipeline } from 'node:stream/promises';
import type { Writable } from 'node:stream';
import { createGzip, type ZlibOptions } from 'node:zlib';
import { SeededRandom, cumulative } from './random.ts';
import { TimestampFormatter, formatDistance, formatMoney } from './tlc-format.ts';

/** The header of the TLC yellow-taxi CSVs of 2020–2021. */
export const YELLOW_TAXI_HEADER =
  'VendorID,tpep_pickup_datetime,tpep_dropoff_datetime,passenger_count,trip_distance,RatecodeID,store_and_fwd_flag,' +
  'PULocationID,DOLocationID,payment_type,fare_amount,extra,mta_tax,tip_amount,tolls_amount,improvement_surcharge,' +
  'total_amount,congestion_surcharge';

/** Rows in the real January 2021 file. */
export const YELLOW_TAXI_2021_01_ROWS = 1_369_765;

export interface YellowTaxiSampleOptions {
  /** Default 1,369,765: the real January 2021 file. */
  readonly rows?: number;
  /** Default 1. */
  readonly seed?: number;
  /** `YYYY-MM`, default `2021-01`. */
  readonly month?: string;
}

/** Share of rows at the end of the file without vendor data, as in the real month. */
const UNKNOWN_VENDOR_SHARE = 0.072;
const ROWS_PER_CHUNK = 8192;
const PASSENGERS = cumulative([2, 70, 15, 4, 2, 4, 3]); // 0..6
const RATECODES = cumulative([96, 2, 0.5, 0.3, 1.2]); // 1..5
const PAYMENTS = cumulative([70, 28, 1, 1]); // 1..4

/** The CSV text, header first, in chunks of a few thousand rows (never the whole file). */
export function* yellowTaxiCsv(options: YellowTaxiSampleOptions = {}): Generator<string> {
  const rows = Math.max(0, Math.floor(options.rows ?? YELLOW_TAXI_2021_01_ROWS));
  const random = new SeededRandom(options.seed ?? 1);
  const [year, month] = parseMonth(options.month ?? '2021-01');
  const monthStart = Date.UTC(year, month - 1, 1) / 1000;
  const monthSeconds = Date.UTC(year, month, 1) / 1000 - monthStart;
  const knownRows = rows - Math.round(rows * UNKNOWN_VENDOR_SHARE);
  // The real month has ~16 pickups from the previous evening among its first 23k rows; small
  // samples get a higher rate so they still show a few.
  const straggle = Math.min(0.05, Math.max(0.0007, 8 / (0.02 * Math.max(1, knownRows))));
  const pickupFormat = new TimestampFormatter();
  const dropoffFormat = new TimestampFormatter();
  let lines: string[] = [YELLOW_TAXI_HEADER];

  for (let i = 0; i < rows; i++) {
    const known = i < knownRows;
    // Pickups advance through the month (in each block), with some jitter so the order is rough.
    const progress = known ? i / Math.max(1, knownRows) : (i - knownRows) / Math.max(1, rows - knownRows);
    let pickup = monthStart + Math.floor(progress * (monthSeconds - 1800) + random.next() * 1800);
    if (known && progress < 0.02 && random.next() < straggle) pickup = monthStart - 3600 + random.int(0, 3599);
    const minutes = 3 + random.exponential(11);
    const dropoff = pickup + Math.round(minutes * 60);
    const distance = random.next() < 0.015 ? 0 : Math.min(60, 0.3 + random.exponential(2.6));
    const ratecode = 1 + random.pick(RATECODES);
    const payment = 1 + random.pick(PAYMENTS);
    const fare = ratecode === 2 ? 52 : Math.round((2.5 + distance * 2.5 + minutes * 0.5) * 2) / 2;
    const extra = [0, 0.5, 1, 2.5, 3][random.int(0, 4)];
    const tip = payment === 1 ? Math.round(fare * (0.1 + random.next() * 0.2) * 100) / 100 : 0;
    const tolls = random.next() < 0.04 ? 6.12 : 0;
    const congestion = random.next() < 0.75 ? 2.5 : 0;
    // A small fraction are refunds/disputes: every amount negative.
    const sign = random.next() < 0.006 ? -1 : 1;
    const total = sign * (fare + extra + 0.5 + tip + tolls + 0.3 + congestion);
    lines.push(
      (known ? (random.next() < 0.33 ? '1' : '2') : '') +
        ',' +
        pickupFormat.format(pickup) +
        ',' +
        dropoffFormat.format(dropoff) +
        ',' +
        (known ? String(random.pick(PASSENGERS)) : '') +
        ',' +
        formatDistance(distance) +
        ',' +
        (known ? String(ratecode) : '') +
        ',' +
        (known ? (random.next() < 0.99 ? 'N' : 'Y') : '') +
        ',' +
        random.int(1, 265) +
        ',' +
        random.int(1, 265) +
        ',' +
        (known ? String(payment) : '') +
        ',' +
        formatMoney(sign * fare) +
        ',' +
        formatMoney(sign * extra) +
        ',' +
        formatMoney(sign * 0.5) +
        ',' +
        formatMoney(sign * tip) +
        ',' +
        formatMoney(sign * tolls) +
        ',' +
        formatMoney(sign * 0.3) +
        ',' +
        formatMoney(total) +
        ',' +
        formatMoney(sign * congestion),
    );
    if (lines.length >= ROWS_PER_CHUNK) {
      yield `${lines.join('\n')}\n`;
      lines = [];
    }
  }
  if (lines.length > 0) yield `${lines.join('\n')}\n`;
}

/**
 * Writes a generated month to `path`, gzipped when it ends in `.gz`.
 * Streams: memory stays small even for the full 1.37M-row month.
 */
export async function writeYellowTaxiSample(path: string, options: YellowTaxiSampleOptions = {}): Promise<void> {
  const file = createWriteStream(path);
  // Level 1: a quarter of level 6's time for a somewhat bigger file; this is sample data. The large
  // buffer lets the zlib thread compress while the main thread generates the next rows.
  let sink: Writable = file;
  let done = finished(file);
  if (path.endsWith('.gz')) {
    const gzip = createGzip({ level: 1, highWaterMark: 8 << 20 } as ZlibOptions);
    done = pipeline(gzip, file);
    sink = gzip;
  }
  for (const chunk of yellowTaxiCsv(options)) {
    if (!sink.write(chunk, 'latin1')) await once(sink, 'drain');
  }
  sink.end();
  await done;
}

function parseMonth(month: string): [number, number] {
  const match = /^(\d{4})-(\d{2})$/.exec(month);
  const m = match ? Number(match[2]) : 0;
  if (!match || m < 1 || m > 12) throw new RangeError(`month must look like 2021-01, got ${JSON.stringify(month)}`);
  return [Number(match[1]), m];
}

import { Table } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { ConfigError, DataError } from '../../src/errors.ts';
import { checkRowsInScope, checkScope, runInterval, scopeCondition } from '../../src/io/partition-scope.ts';
import { dateVector, timestampVector } from '../../src/table/index.ts';

const day = (iso: string) => new Date(`${iso}T00:00:00Z`);
const scope = { column: 'd', start: day('2021-01-05'), end: day('2021-01-06') };

describe('partition scopes', () => {
  it('selects rows with typed literals for DATE, TIMESTAMP, TIMESTAMPTZ and named values', () => {
    expect(scopeCondition(scope, '"d"', 'date')).toBe(`"d" >= DATE '2021-01-05' AND "d" < DATE '2021-01-06'`);
    expect(scopeCondition(scope, '"d"', 'timestamp')).toBe(
      `"d" >= TIMESTAMP '2021-01-05 00:00:00.000' AND "d" < TIMESTAMP '2021-01-06 00:00:00.000'`,
    );
    expect(scopeCondition(scope, '"d"', 'timestamptz')).toBe(
      `"d" >= TIMESTAMPTZ '2021-01-05 00:00:00.000+00' AND "d" < TIMESTAMPTZ '2021-01-06 00:00:00.000+00'`,
    );
    expect(scopeCondition({ column: 'd', values: ['2021-01-05', "o'clock"] }, '"d"', 'other')).toBe(`"d" IN ('2021-01-05', 'o''clock')`);
  });

  it('an hourly interval on a DATE column holds the dates whose midnight lies in it', () => {
    const midnightHour = { column: 'd', start: day('2021-01-05'), end: new Date('2021-01-05T01:00:00Z') };
    expect(scopeCondition(midnightHour, 'd', 'date')).toBe(`d >= DATE '2021-01-05' AND d < DATE '2021-01-06'`);
    const laterHour = { column: 'd', start: new Date('2021-01-05T05:00:00Z'), end: new Date('2021-01-05T06:00:00Z') };
    expect(scopeCondition(laterHour, 'd', 'date')).toBe(`d >= DATE '2021-01-06' AND d < DATE '2021-01-06'`); // empty: no date's midnight
  });

  it('refuses rows outside the interval and nulls, naming row and value', () => {
    const t = new Table({
      d: dateVector(Int32Array.of(18632, 18632, 18633)),
      ts: timestampVector(BigInt64Array.of(1_609_804_800_000_000n, 1_609_891_199_999_999n, 1_609_891_200_000_000n)),
    });
    const err = (() => {
      try {
        checkRowsInScope(t, scope, 'w');
      } catch (e) {
        return e;
      }
    })() as DataError;
    expect(err).toBeInstanceOf(DataError);
    expect(err).toMatchObject({ row: 3, column: 'd', value: '2021-01-06' });
    expect(() => checkRowsInScope(t, { ...scope, column: 'ts' }, 'w')).toThrow(/row 3 lies outside/);
    expect(() => checkRowsInScope(t.slice(0, 2), { ...scope, column: 'ts' }, 'w')).not.toThrow();
    expect(() => checkRowsInScope(t, { column: 'nope', values: ['x'] }, 'w')).toThrow(/partition column is not in the table/);
  });

  it('checks the scope itself: one of interval or values, a replace policy', () => {
    expect(() => checkScope(scope, 'append', 'w')).toThrow(ConfigError);
    expect(() => checkScope({ column: 'd', start: day('2021-01-06'), end: day('2021-01-05') }, undefined, 'w')).toThrow(/invalid interval/);
    expect(() => checkScope({ column: 'd', values: [] }, 'replace', 'w')).toThrow(/no values/);
    expect(() => checkScope({ column: 'd' }, undefined, 'w')).toThrow(/either start and end or values/);
    expect(runInterval({ intervalStart: scope.start, intervalEnd: scope.end }, 'd')).toEqual(scope);
  });
});

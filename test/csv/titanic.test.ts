import { createReadStream } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeCsv } from '../../src/io/csv/decode.ts';
import { hasSharedData, sharedData } from './helpers.ts';

describe.skipIf(!hasSharedData)('type inference on titanic.csv', () => {
  it('infers pandas-like types, keeps quoted names intact and empty cells null', async () => {
    const file = resolve(sharedData, 'titanic.csv');
    const { table, report } = await decodeCsv(createReadStream(file), { sourceName: file });
    expect(report.rows).toBe(891);
    const types = Object.fromEntries(table.schema.fields.map((f) => [f.name, String(f.type)]));
    expect(types).toEqual({
      PassengerId: 'Int64',
      Survived: 'Int64',
      Pclass: 'Int64',
      Name: 'Utf8',
      Sex: 'Utf8',
      Age: 'Float64',
      SibSp: 'Int64',
      Parch: 'Int64',
      Ticket: 'Utf8',
      Fare: 'Float64',
      Cabin: 'Utf8',
      Embarked: 'Utf8',
    });
    expect(table.getChild('Age')!.nullCount).toBe(177);
    expect(table.getChild('Cabin')!.nullCount).toBe(687);
    expect(table.getChild('Embarked')!.nullCount).toBe(2);
    expect(table.getChild('Name')!.get(0)).toBe('Braund, Mr. Owen Harris');
    const names = table.getChild('Name')!.toArray() as string[];
    expect(names).toContain('Johnston, Miss. Catherine Helen "Carrie"');
    expect(table.getChild('Fare')!.get(1)).toBe(71.2833);
  });
});

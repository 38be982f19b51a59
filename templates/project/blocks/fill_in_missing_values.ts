import { fillNull, median, selectColumns, transformer, type Table } from 'pipekit';

const COLUMNS = ['Age', 'Fare', 'Parch', 'Pclass', 'SibSp', 'Survived'];

/** Mage's `fill_in_missing_values`: keep the numeric columns and fill nulls with each column's median. */
export default transformer(async (passengers: Table, ctx) => {
  let table = selectColumns(passengers, COLUMNS);
  for (const column of COLUMNS) {
    const nulls = table.getChild(column)!.nullCount;
    if (nulls === 0) continue;
    const value = median(table, column);
    ctx.log.info(`${column}: ${nulls} missing, filled with the median ${value}`);
    table = fillNull(table, column, value);
  }
  return table;
}).test('no missing values are left', (output) => {
  const missing = output.schema.fields.filter((f) => output.getChild(f.name)!.nullCount > 0);
  if (missing.length) throw new Error(`still missing: ${missing.map((f) => f.name).join(', ')}`);
});

import { renameColumns, snakeCase, transformer, type Table } from 'pipekit';

/** The Zoomcamp's `transform_staged_data`: column names to snake_case (`VendorID` → `vendor_id`). */
export default transformer(async (trips: Table) => renameColumns(trips, snakeCase)).test(
  'columns are snake_case',
  (output) => {
    const bad = output.schema.fields.map((f) => f.name).filter((n) => n !== n.toLowerCase() || n.includes(' '));
    if (bad.length) throw new Error(`columns not snake_case: ${bad.join(', ')}`);
  },
);

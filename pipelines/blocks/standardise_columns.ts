import { renameColumns, snakeCase, transformer, type Table } from 'pipekit';

/**
 * The Zoomcamp's `standardise_columns` (`transform_stage_data`) cleans names with
 * `data.columns.str.replace(' ', '_').str.lower()`, which gives `vendorid` and
 * `pulocationid`. This block goes one step further, to the snake_case the
 * homework's transformer asks for (`VendorID` → `vendor_id`, `PULocationID` →
 * `pu_location_id`); write `renameColumns(trips, (n) => n.replaceAll(' ', '_').toLowerCase())`
 * for the course's exact names.
 */
export default transformer(async (trips: Table) => renameColumns(trips, snakeCase)).test('columns are snake_case', (output) => {
  const bad = output.schema.fields.map((f) => f.name).filter((n) => n !== n.toLowerCase() || n.includes(' '));
  if (bad.length) throw new Error(`columns not snake_case: ${bad.join(', ')}`);
});

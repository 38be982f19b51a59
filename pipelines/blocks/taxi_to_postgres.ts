import { exporter, type Table } from 'pipekit';

/**
 * The Zoomcamp's `taxi_data_to_postgres`: replace `ny_taxi.yellow_taxi_data` with COPY, atomically.
 * Columns are named as Mage's exporter names them (`VendorID` → `vendorid`,
 * `PULocationID` → `pulocationid`), so the course's queries run unchanged;
 * `columnNames: 'keep'` would keep the file's spelling.
 */
export default exporter(async (trips: Table, ctx) => {
  const postgres = await ctx.io.postgres();
  return postgres.export(trips, { schema: 'ny_taxi', table: 'yellow_taxi_data', ifExists: 'replace' });
});

import { exporter, type Table } from 'pipekit';

/** The Zoomcamp's `taxi_to_gcs_parquet`: one Parquet object in the lake (a folder locally, GCS in the cloud). */
export default exporter(async (trips: Table, ctx) => {
  const lake = await ctx.io.lake();
  return lake.write(trips, String(ctx.variables.object_key ?? 'nyc_taxi_data.parquet'));
});

import { loader } from 'pipekit';

/** The Zoomcamp's `load_taxi_gcs`: read the month back from the lake; a missing object is an error. */
export default loader(async (ctx) => {
  const lake = await ctx.io.lake();
  return lake.read(String(ctx.variables.object_key ?? 'nyc_taxi_data.parquet'));
});

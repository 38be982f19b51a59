import { exporter, toDate, withColumn, type Table } from 'pipekit';

/**
 * The Zoomcamp's `taxi_to_gcs_partitioned_parquet`: Hive partitions by pickup
 * date. Re-running a date replaces its partition instead of adding files
 * (pyarrow's write_to_dataset keeps adding uuid-named files), and the
 * upstream table is not mutated (Mage's version adds the column in place).
 */
export default exporter(async (trips: Table, ctx) => {
  const withDate = withColumn(trips, 'tpep_pickup_date', toDate(trips.getChild('tpep_pickup_datetime')!));
  const lake = await ctx.io.lake();
  const result = await lake.writePartitioned(withDate, 'nyc_taxi_data', { partitionBy: 'tpep_pickup_date' });
  ctx.log.info(`wrote ${result.partitions.length} partitions`);
  return result;
});

import type { ColumnType } from 'pipekit';

/**
 * The Zoomcamp loader's dtype map, exactly: pandas' nullable `Int64` is
 * `int64`, `float` is `float64`, `str` is `string`, and `parse_dates` are
 * timestamps.
 */
export const YELLOW_TAXI_COLUMNS: Readonly<Record<string, ColumnType>> = {
  VendorID: 'int64',
  passenger_count: 'int64',
  trip_distance: 'float64',
  RatecodeID: 'int64',
  store_and_fwd_flag: 'string',
  PULocationID: 'int64',
  DOLocationID: 'int64',
  payment_type: 'int64',
  fare_amount: 'float64',
  extra: 'float64',
  mta_tax: 'float64',
  tip_amount: 'float64',
  tolls_amount: 'float64',
  improvement_surcharge: 'float64',
  total_amount: 'float64',
  congestion_surcharge: 'float64',
};

export const YELLOW_TAXI_DATES = ['tpep_pickup_datetime', 'tpep_dropoff_datetime'] as const;

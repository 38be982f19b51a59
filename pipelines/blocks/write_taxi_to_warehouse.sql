-- The Zoomcamp's write_taxi_to_bigquery: DuckDB on a laptop, BigQuery in the cloud.
SELECT * FROM {{ df_1 }}

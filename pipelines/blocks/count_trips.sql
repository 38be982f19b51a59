-- The Zoomcamp's check_result block: what landed in Postgres, per day.
SELECT tpep_pickup_datetime::date AS pickup_date,
       count(*)                   AS trips,
       round(sum(total_amount)::numeric, 2)::float8 AS total_amount
FROM ny_taxi.yellow_taxi_data
GROUP BY 1
ORDER BY 1

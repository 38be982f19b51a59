"""The Mage way, as the Zoomcamp runs it: pandas read_csv -> filter -> Mage's Postgres export.

    /usr/bin/python3 scripts/bench/mage_path.py <csv.gz> <what> [lake-dir]

<what>: `postgres` (api_to_postgres, with its check_result query), `parquet` (to_parquet single file), `partitioned`
(pyarrow write_to_dataset). Connection from PGHOST/PGPORT/PGUSER/PGPASSWORD/PGDATABASE.
Prints one JSON line with per-phase seconds; the parent measures wall time and peak RSS.
The code below is the Zoomcamp's block code and mage_ai/io/postgres.py's export path,
inlined (no Mage install), so its cost is pandas' cost, not ours.
"""
import io
import json
import os
import sys
import time

import pandas as pd

phases = {}


def timed(name, fn):
    started = time.perf_counter()
    result = fn()
    phases[name] = time.perf_counter() - started
    return result


def load(path):
    # mage-zoomcamp solutions: data_loaders/load_nyc_taxi_data.py, verbatim apart from the URL.
    taxi_dtypes = {
        'VendorID': pd.Int64Dtype(), 'passenger_count': pd.Int64Dtype(), 'trip_distance': float,
        'RatecodeID': pd.Int64Dtype(), 'store_and_fwd_flag': str, 'PULocationID': pd.Int64Dtype(),
        'DOLocationID': pd.Int64Dtype(), 'payment_type': pd.Int64Dtype(), 'fare_amount': float,
        'extra': float, 'mta_tax': float, 'tip_amount': float, 'tolls_amount': float,
        'improvement_surcharge': float, 'total_amount': float, 'congestion_surcharge': float}
    parse_dates = ['tpep_pickup_datetime', 'tpep_dropoff_datetime']
    return pd.read_csv(path, sep=',', compression='gzip', dtype=taxi_dtypes, parse_dates=parse_dates)


def transform(data):
    # transformers/transform_taxi_data.py
    print(f'Preprocessing: rows where passenger count is zero: {data.passenger_count.isin([0]).sum()}', file=sys.stderr)
    return data[data['passenger_count'] > 0]


def pg_type(series):
    # Postgres.get_type: ints sized from the column's min/max, floats double, datetimes timestamp.
    kind = pd.api.types.infer_dtype(series, skipna=True)
    if kind in ('datetime', 'datetime64'):
        return 'timestamp'
    if kind == 'integer':
        lo, hi = series.min(), series.max()
        if pd.isna(lo):
            return 'bigint'
        if -32768 <= lo and hi <= 32767:
            return 'smallint'
        if -2147483648 <= lo and hi <= 2147483647:
            return 'integer'
        return 'bigint'
    if kind in ('floating', 'decimal', 'mixed-integer-float'):
        return 'double precision'
    if kind == 'boolean':
        return 'boolean'
    return 'text'


def export_postgres(df, schema='ny_taxi', table='mage_yellow_taxi_data'):
    # mage_ai/io/sql.py BaseSQL.export with if_exists='replace', index=False: one cursor, one
    # transaction; the table is created from the dtypes, the frame goes through to_csv into a
    # StringIO and COPY ... FROM STDIN with FORCE_NULL.
    import psycopg2
    conn = psycopg2.connect(host=os.environ['PGHOST'], port=os.environ['PGPORT'], user=os.environ['PGUSER'],
                            password=os.environ['PGPASSWORD'], dbname=os.environ['PGDATABASE'], keepalives=1,
                            keepalives_idle=300, connect_timeout=10)
    columns = [c.lower() for c in df.columns]  # clean_name: lowercase unless case_sensitive
    with conn.cursor() as cur:
        cur.execute(f"DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM information_schema.schemata WHERE schema_name = '{schema}') "
                    f"THEN EXECUTE 'CREATE SCHEMA {schema}'; END IF; END $$")
        cur.execute("SELECT 1 FROM pg_tables WHERE schemaname = %s AND tablename = %s", (schema, table))
        if cur.fetchone():
            cur.execute(f'DELETE FROM {schema}.{table}')
        else:
            ddl = ', '.join(f'"{c}" {pg_type(df[o])}' for c, o in zip(columns, df.columns))
            cur.execute(f'CREATE TABLE {schema}.{table} ({ddl})')
        buffer = timed('to_csv', lambda: _to_csv(df))
        quoted = ', '.join(f'"{c}"' for c in columns)
        timed('copy', lambda: cur.copy_expert(
            f"COPY {schema}.{table} ({quoted}) FROM STDIN (FORMAT csv, DELIMITER ',', NULL '', FORCE_NULL({quoted}))",
            buffer))
    conn.commit()
    conn.close()


def _to_csv(df):
    buffer = io.StringIO()
    df.to_csv(buffer, header=False, index=False, na_rep='')
    buffer.seek(0)
    return buffer


def check_result(table='mage_yellow_taxi_data'):
    # The Mage pipeline's fourth block, check_result (a raw SQL data loader on postgres/dev), run
    # as pipekit's api_to_postgres runs it: the same SQL as its count_trips block, into a frame.
    import psycopg2
    sql_path = os.path.join(os.path.dirname(__file__), '..', '..', 'pipelines', 'blocks', 'count_trips.sql')
    with open(sql_path) as f:
        sql = f.read().replace('ny_taxi.yellow_taxi_data', f'ny_taxi.{table}')
    conn = psycopg2.connect(host=os.environ['PGHOST'], port=os.environ['PGPORT'], user=os.environ['PGUSER'],
                            password=os.environ['PGPASSWORD'], dbname=os.environ['PGDATABASE'], connect_timeout=10)
    with conn.cursor() as cur:
        cur.execute(sql)
        frame = pd.DataFrame(cur.fetchall(), columns=[d[0] for d in cur.description])
    conn.close()
    return frame


def main():
    path, what = sys.argv[1], sys.argv[2]
    lake = sys.argv[3] if len(sys.argv) > 3 else None
    df = timed('decode', lambda: load(path))
    rows_in = len(df)
    data = timed('transform', lambda: transform(df))
    started = time.perf_counter()
    if what == 'postgres':
        export_postgres(data)
        phases['export'] = time.perf_counter() - started
        timed('check', check_result)
    elif what == 'parquet':
        # GoogleCloudStorage.export of a .parquet key: df.to_parquet into a buffer, then upload.
        data.to_parquet(os.path.join(lake, 'nyc_taxi_data.parquet'))
    elif what == 'partitioned':
        import pyarrow as pa
        import pyarrow.parquet as pq
        data['tpep_pickup_date'] = data['tpep_pickup_datetime'].dt.date
        pq.write_to_dataset(pa.Table.from_pandas(data), root_path=os.path.join(lake, 'nyc_taxi_data'),
                            partition_cols=['tpep_pickup_date'])
    else:
        raise SystemExit(f'unknown path {what}')
    phases.setdefault('export', time.perf_counter() - started)
    print(json.dumps({'phases': phases, 'rowsIn': rows_in, 'rowsOut': len(data)}))


if __name__ == '__main__':
    main()

-- Batch: a CSV directory to Parquet (partitioned by day) and to JSON, as one job of two INSERTs.
SET 'execution.runtime-mode' = 'batch';

CREATE TEMPORARY TABLE events_csv (
    event_id STRING,
    kind     STRING,
    `value`  DOUBLE,
    dt      STRING
) WITH (
    'connector' = 'filesystem',
    'path' = 'file:///tmp/sluice-samples/events-csv',
    'format' = 'csv',
    'csv.field-delimiter' = ';',
    'csv.ignore-parse-errors' = 'true'
);

CREATE TEMPORARY TABLE events_parquet (
    event_id STRING,
    kind     STRING,
    `value`  DOUBLE,
    dt      STRING
) PARTITIONED BY (dt) WITH (
    'connector' = 'filesystem',
    'path' = 'file:///tmp/sluice-samples/events-parquet',
    'format' = 'parquet',
    'parquet.compression' = 'SNAPPY'
);

CREATE TEMPORARY TABLE big_events_json (
    event_id STRING,
    `value`  DOUBLE
) WITH (
    'connector' = 'filesystem',
    'path' = 'file:///tmp/sluice-samples/big-events-json',
    'format' = 'json'
);

INSERT INTO events_parquet SELECT event_id, kind, `value`, dt FROM events_csv;

INSERT INTO big_events_json SELECT event_id, `value` FROM events_csv WHERE `value` > 100;

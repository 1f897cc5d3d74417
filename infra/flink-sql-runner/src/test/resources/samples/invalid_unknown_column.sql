-- Invalid on purpose: the WHERE clause names a column the source does not have.
SET 'execution.runtime-mode' = 'batch';

CREATE TEMPORARY TABLE src (
    id     BIGINT,
    status STRING
) WITH (
    'connector' = 'jdbc',
    'url' = 'jdbc:postgresql://127.0.0.1:5432/shop',
    'table-name' = 'public.orders'
);

CREATE TEMPORARY TABLE dst (
    id BIGINT
) WITH (
    'connector' = 'filesystem',
    'path' = 'file:///tmp/sluice-samples/invalid',
    'format' = 'csv'
);

INSERT INTO dst SELECT id FROM src WHERE state = 'paid';

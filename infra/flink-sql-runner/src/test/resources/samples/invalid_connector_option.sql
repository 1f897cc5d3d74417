-- Invalid on purpose: a misspelt JDBC option, reported by the connector factory when planning.
SET 'execution.runtime-mode' = 'batch';

CREATE TEMPORARY TABLE src (
    id BIGINT
) WITH (
    'connector' = 'jdbc',
    'url' = 'jdbc:postgresql://127.0.0.1:5432/shop',
    'table-name' = 'public.orders',
    'scan.fetchsize' = '1000'
);

CREATE TEMPORARY TABLE dst (id BIGINT) WITH ('connector' = 'blackhole');

INSERT INTO dst SELECT id FROM src;

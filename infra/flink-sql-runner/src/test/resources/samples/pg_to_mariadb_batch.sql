-- Batch copy of the paid orders of one day from PostgreSQL to MariaDB (upsert on the key).
SET 'execution.runtime-mode' = 'batch';
SET 'pipeline.name' = 'sluice: orders pg -> mariadb';

CREATE TEMPORARY TABLE src_orders (
    id          BIGINT,
    customer_id BIGINT,
    status      STRING,
    amount      DECIMAL(12, 2),
    note        STRING,
    created_at  TIMESTAMP(3)
) WITH (
    'connector' = 'jdbc',
    'url' = 'jdbc:postgresql://127.0.0.1:5432/shop',
    'table-name' = 'public.orders',
    'username' = 'u',
    'password' = 'p',
    'scan.fetch-size' = '5000',
    'scan.partition.column' = 'id',
    'scan.partition.num' = '4',
    'scan.partition.lower-bound' = '1',
    'scan.partition.upper-bound' = '1000000'
);

CREATE TEMPORARY TABLE dst_orders (
    id          BIGINT,
    customer_id BIGINT,
    amount      DECIMAL(12, 2),
    note        STRING,
    created_at  TIMESTAMP(3),
    PRIMARY KEY (id) NOT ENFORCED
) WITH (
    'connector' = 'jdbc',
    'url' = 'jdbc:mysql://127.0.0.1:3306/shop',
    'table-name' = 'orders',
    'username' = 'u',
    'password' = 'p',
    'sink.buffer-flush.max-rows' = '5000',
    'sink.buffer-flush.interval' = '1s',
    'sink.max-retries' = '0'
);

INSERT INTO dst_orders
SELECT id, customer_id, amount, note /* a ; in a comment */, created_at
FROM src_orders
WHERE status = 'paid; settled' -- a ; in a string and in this comment
  AND created_at >= TIMESTAMP '2025-01-01 00:00:00'
  AND created_at < TIMESTAMP '2025-01-02 00:00:00';

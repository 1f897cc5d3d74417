-- Bounded read of a Kafka topic (up to the offsets at start), totals per customer written to a
-- compacted topic with upsert-kafka.
SET 'execution.runtime-mode' = 'streaming';

CREATE TEMPORARY TABLE payments (
    payment_id  STRING,
    customer_id BIGINT,
    amount      DOUBLE,
    ts          TIMESTAMP(3) METADATA FROM 'timestamp' VIRTUAL,
    WATERMARK FOR ts AS ts - INTERVAL '5' SECOND
) WITH (
    'connector' = 'kafka',
    'topic' = 'payments',
    'properties.bootstrap.servers' = '127.0.0.1:9092',
    'properties.group.id' = 'sluice-payments',
    'scan.startup.mode' = 'earliest-offset',
    'scan.bounded.mode' = 'latest-offset',
    'format' = 'json',
    'json.ignore-parse-errors' = 'true'
);

CREATE TEMPORARY TABLE customer_totals (
    customer_id BIGINT,
    total       DOUBLE,
    payments    BIGINT,
    PRIMARY KEY (customer_id) NOT ENFORCED
) WITH (
    'connector' = 'upsert-kafka',
    'topic' = 'customer-totals',
    'properties.bootstrap.servers' = '127.0.0.1:9092',
    'key.format' = 'json',
    'value.format' = 'json'
);

INSERT INTO customer_totals
SELECT customer_id, SUM(amount), COUNT(*)
FROM payments
WHERE amount > 0
GROUP BY customer_id;

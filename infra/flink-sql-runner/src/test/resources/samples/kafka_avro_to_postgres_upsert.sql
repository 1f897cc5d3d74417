-- Streaming: Avro records from Kafka upserted into PostgreSQL (INSERT ... ON CONFLICT).
CREATE TEMPORARY TABLE customers_kafka (
    id      BIGINT,
    name    STRING,
    email   STRING,
    updated TIMESTAMP(3)
) WITH (
    'connector' = 'kafka',
    'topic' = 'customers',
    'properties.bootstrap.servers' = '127.0.0.1:9092',
    'properties.group.id' = 'sluice-customers',
    'scan.startup.mode' = 'group-offsets',
    'properties.auto.offset.reset' = 'earliest',
    'format' = 'avro'
);

CREATE TEMPORARY TABLE customers_pg (
    id      BIGINT,
    name    STRING,
    email   STRING,
    updated TIMESTAMP(3),
    PRIMARY KEY (id) NOT ENFORCED
) WITH (
    'connector' = 'jdbc',
    'url' = 'jdbc:postgresql://127.0.0.1:5432/crm',
    'table-name' = 'public.customers',
    'username' = 'u',
    'password' = 'p'
);

INSERT INTO customers_pg SELECT id, name, LOWER(email), updated FROM customers_kafka WHERE email IS NOT NULL;

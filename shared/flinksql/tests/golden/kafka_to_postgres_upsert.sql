SET 'execution.runtime-mode' = 'streaming';
SET 'parallelism.default' = '1';
SET 'pipeline.name' = 'sluice/job_01J0000000000000000000000A/orders kafka to postgres (upsert)';
SET 'pipeline.operator-chaining.enabled' = 'false';

CREATE TEMPORARY TABLE `src` (
  `id` BIGINT,
  `customer` VARCHAR(100),
  `amount` DECIMAL(12, 2),
  `status` STRING,
  `created_at` TIMESTAMP_LTZ(3)
) WITH (
  'connector' = 'kafka',
  'topic' = 'orders.v1',
  'properties.bootstrap.servers' = '127.0.0.1:9092',
  'properties.group.id' = 'sluice-job_01J0000000000000000000000A',
  'scan.startup.mode' = 'earliest-offset',
  'properties.security.protocol' = 'SASL_PLAINTEXT',
  'properties.sasl.mechanism' = 'SCRAM-SHA-256',
  'properties.sasl.jaas.config' = '******',
  'format' = 'json',
  'json.ignore-parse-errors' = 'true'
);

CREATE TEMPORARY TABLE `dst` (
  `id` BIGINT,
  `customer_name` VARCHAR(100),
  `amount` DECIMAL(14, 2),
  `status` VARCHAR(64),
  PRIMARY KEY (`id`) NOT ENFORCED
) WITH (
  'connector' = 'jdbc',
  'url' = 'jdbc:postgresql://127.0.0.1:5432/sluice_dst?sslmode=prefer&reWriteBatchedInserts=true&stringtype=unspecified',
  'table-name' = 'public.orders_copy',
  'driver' = 'org.postgresql.Driver',
  'username' = 'sluice',
  'password' = '******',
  'sink.buffer-flush.max-rows' = '5000',
  'sink.buffer-flush.interval' = '1000ms',
  'sink.max-retries' = '3'
);

INSERT INTO `dst` (`id`, `customer_name`, `amount`, `status`)
SELECT
  `id`,
  `customer` AS `customer_name`,
  CAST(`amount` AS DECIMAL(14, 2)) AS `amount`,
  CAST(CONCAT_WS(':', `status`, CAST(YEAR(`created_at`) AS STRING)) AS VARCHAR(64)) AS `status`
FROM `src`
WHERE (`amount` BETWEEN 0 AND 100000) OR (`status` LIKE 'refund%');

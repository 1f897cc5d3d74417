SET 'execution.runtime-mode' = 'streaming';
SET 'parallelism.default' = '1';
SET 'pipeline.name' = 'sluice/job_01J0000000000000000000000A/orders kafka to kafka (append)';
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
  `customer` VARCHAR(100),
  `amount_cents` BIGINT,
  `status` STRING,
  `created_day` STRING,
  `customer_hash` STRING
) WITH (
  'connector' = 'kafka',
  'topic' = 'orders.out',
  'properties.bootstrap.servers' = '127.0.0.1:9092,127.0.0.1:9093',
  'properties.security.protocol' = 'SASL_PLAINTEXT',
  'properties.sasl.mechanism' = 'PLAIN',
  'properties.sasl.jaas.config' = '******',
  'format' = 'avro'
);

INSERT INTO `dst` (`id`, `customer`, `amount_cents`, `status`, `created_day`, `customer_hash`)
SELECT
  `id`,
  CAST(UPPER(TRIM(`customer`)) AS VARCHAR(100)) AS `customer`,
  CAST(`amount` * 100 AS BIGINT) AS `amount_cents`,
  CAST(CASE WHEN `status` IN ('paid', 'shipped') THEN 'done' WHEN `status` IS NULL THEN 'unknown' ELSE LOWER(`status`) END AS STRING) AS `status`,
  CAST(DATE_FORMAT(`created_at`, 'yyyy-MM-dd') AS STRING) AS `created_day`,
  CAST(SHA256(COALESCE(`customer`, '')) AS STRING) AS `customer_hash`
FROM `src`
WHERE (`amount` BETWEEN 0 AND 100000) OR (`status` LIKE 'refund%');

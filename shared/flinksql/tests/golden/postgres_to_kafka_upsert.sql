SET 'execution.runtime-mode' = 'batch';
SET 'parallelism.default' = '2';
SET 'pipeline.name' = 'sluice/job_01J0000000000000000000000A/orders postgres to kafka (upsert)';
SET 'pipeline.operator-chaining.enabled' = 'false';

CREATE TEMPORARY TABLE `src` (
  `id` BIGINT,
  `customer` VARCHAR(100),
  `amount` DECIMAL(12, 2),
  `status` STRING,
  `created_at` TIMESTAMP(3),
  `updated_at` TIMESTAMP(3)
) WITH (
  'connector' = 'jdbc',
  'url' = 'jdbc:postgresql://127.0.0.1:5432/sluice_src?sslmode=disable',
  'table-name' = 'public.orders',
  'driver' = 'org.postgresql.Driver',
  'username' = 'sluice',
  'password' = '******',
  'scan.fetch-size' = '10000',
  'scan.auto-commit' = 'false',
  'scan.partition.column' = 'id',
  'scan.partition.num' = '4',
  'scan.partition.lower-bound' = '1',
  'scan.partition.upper-bound' = '1000000'
);

CREATE TEMPORARY TABLE `dst` (
  `id` BIGINT,
  `customer` VARCHAR(100),
  `amount` DECIMAL(12, 2),
  `status` STRING,
  `created_at` TIMESTAMP(3),
  `updated_at` TIMESTAMP(3),
  PRIMARY KEY (`id`) NOT ENFORCED
) WITH (
  'connector' = 'upsert-kafka',
  'topic' = 'orders.latest',
  'properties.bootstrap.servers' = '127.0.0.1:9092,127.0.0.1:9093',
  'properties.security.protocol' = 'SASL_PLAINTEXT',
  'properties.sasl.mechanism' = 'PLAIN',
  'properties.sasl.jaas.config' = '******',
  'key.format' = 'json',
  'value.format' = 'json'
);

INSERT INTO `dst` (`id`, `customer`, `amount`, `status`, `created_at`, `updated_at`)
SELECT
  `id`,
  `customer`,
  `amount`,
  `status`,
  `created_at`,
  `updated_at`
FROM `src`
WHERE (`status` IN ('paid', 'shipped')) AND (`amount` > 0)
  AND (`updated_at` >= TIMESTAMP '2024-01-01 00:00:00')
  AND (`updated_at` < TIMESTAMP '2024-01-02 00:00:00');

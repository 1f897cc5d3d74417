SET 'execution.runtime-mode' = 'batch';
SET 'parallelism.default' = '1';
SET 'pipeline.name' = 'sluice/job_01J0000000000000000000000A/orders filesystem to kafka (upsert)';
SET 'pipeline.operator-chaining.enabled' = 'false';

CREATE TEMPORARY TABLE `src` (
  `id` BIGINT,
  `customer` VARCHAR(100),
  `amount` DECIMAL(12, 2),
  `status` STRING,
  `created_at` TIMESTAMP(3),
  `order_date` DATE
) WITH (
  'connector' = 'filesystem',
  'path' = '/tmp/sluice/in/orders/csv',
  'format' = 'csv',
  'csv.field-delimiter' = ';',
  'csv.null-literal' = '\N',
  'csv.ignore-parse-errors' = 'true'
);

CREATE TEMPORARY TABLE `dst` (
  `id` BIGINT,
  `customer` VARCHAR(100),
  `amount` DECIMAL(12, 2),
  `status` STRING,
  `created_at` TIMESTAMP(3),
  `order_date` DATE,
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

INSERT INTO `dst` (`id`, `customer`, `amount`, `status`, `created_at`, `order_date`)
SELECT
  `id`,
  `customer`,
  `amount`,
  `status`,
  `created_at`,
  `order_date`
FROM `src`
WHERE (`order_date` >= DATE '2024-01-01')
  AND (`order_date` < DATE '2024-01-02');

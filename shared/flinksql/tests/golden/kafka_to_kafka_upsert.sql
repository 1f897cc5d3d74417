SET 'execution.runtime-mode' = 'streaming';
SET 'parallelism.default' = '1';
SET 'pipeline.name' = 'sluice/job_01J0000000000000000000000A/orders kafka to kafka (upsert)';
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
  `amount` DECIMAL(12, 2),
  `status` STRING,
  `created_at` TIMESTAMP_LTZ(3),
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

INSERT INTO `dst` (`id`, `customer`, `amount`, `status`, `created_at`)
SELECT
  `id`,
  `customer`,
  `amount`,
  `status`,
  `created_at`
FROM `src`
WHERE (`amount` BETWEEN 0 AND 100000) OR (`status` LIKE 'refund%');

SET 'execution.runtime-mode' = 'batch';
SET 'parallelism.default' = '2';
SET 'pipeline.name' = 'sluice/job_01J0000000000000000000000A/orders mysql to kafka (upsert)';
SET 'pipeline.operator-chaining.enabled' = 'false';

CREATE TEMPORARY TABLE `src` (
  `id` BIGINT,
  `customer` VARCHAR(100),
  `amount` DECIMAL(12, 2),
  `status` STRING,
  `created_at` TIMESTAMP(3)
) WITH (
  'connector' = 'jdbc',
  'url' = 'jdbc:mysql://127.0.0.1:3306/sluice_src?permitMysqlScheme&useServerPrepStmts=true',
  'table-name' = 'orders',
  'driver' = 'org.mariadb.jdbc.Driver',
  'username' = 'sluice',
  'password' = '******',
  'scan.fetch-size' = '5000'
);

CREATE TEMPORARY TABLE `dst` (
  `id` BIGINT,
  `customer` VARCHAR(100),
  `amount` DECIMAL(12, 2),
  `status` STRING,
  `created_at` TIMESTAMP(3),
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
WHERE (`customer` IS NOT NULL) AND (NOT (`status` = 'test'));

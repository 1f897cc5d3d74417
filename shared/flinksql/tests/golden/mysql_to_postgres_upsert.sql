SET 'execution.runtime-mode' = 'batch';
SET 'parallelism.default' = '2';
SET 'pipeline.name' = 'sluice/job_01J0000000000000000000000A/orders mysql to postgres (upsert)';
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
WHERE (`customer` IS NOT NULL) AND (NOT (`status` = 'test'));

SET 'execution.runtime-mode' = 'batch';
SET 'parallelism.default' = '2';
SET 'pipeline.name' = 'sluice/job_01J0000000000000000000000A/orders postgres to mysql (upsert)';
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
  `customer_name` VARCHAR(100),
  `amount` DECIMAL(14, 2),
  `status` VARCHAR(64),
  PRIMARY KEY (`id`) NOT ENFORCED
) WITH (
  'connector' = 'jdbc',
  'url' = 'jdbc:mysql://127.0.0.1:3306/sluice_dst?sslMode=DISABLED&rewriteBatchedStatements=true',
  'table-name' = 'orders_copy',
  'driver' = 'com.mysql.cj.jdbc.Driver',
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
WHERE (`status` IN ('paid', 'shipped')) AND (`amount` > 0)
  AND (`updated_at` >= TIMESTAMP '2024-01-01 00:00:00')
  AND (`updated_at` < TIMESTAMP '2024-01-02 00:00:00');

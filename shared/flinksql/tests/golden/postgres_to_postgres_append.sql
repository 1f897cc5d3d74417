SET 'execution.runtime-mode' = 'batch';
SET 'parallelism.default' = '2';
SET 'pipeline.name' = 'sluice/job_01J0000000000000000000000A/orders postgres to postgres (append)';
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
  `amount_cents` BIGINT,
  `status` STRING,
  `created_day` STRING,
  `customer_hash` STRING
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

INSERT INTO `dst` (`id`, `customer`, `amount_cents`, `status`, `created_day`, `customer_hash`)
SELECT
  `id`,
  CAST(UPPER(TRIM(`customer`)) AS VARCHAR(100)) AS `customer`,
  CAST(`amount` * 100 AS BIGINT) AS `amount_cents`,
  CAST(CASE WHEN `status` IN ('paid', 'shipped') THEN 'done' WHEN `status` IS NULL THEN 'unknown' ELSE LOWER(`status`) END AS STRING) AS `status`,
  CAST(DATE_FORMAT(`created_at`, 'yyyy-MM-dd') AS STRING) AS `created_day`,
  CAST(SHA256(COALESCE(`customer`, '')) AS STRING) AS `customer_hash`
FROM `src`
WHERE (`status` IN ('paid', 'shipped')) AND (`amount` > 0)
  AND (`updated_at` >= TIMESTAMP '2024-01-01 00:00:00')
  AND (`updated_at` < TIMESTAMP '2024-01-02 00:00:00');

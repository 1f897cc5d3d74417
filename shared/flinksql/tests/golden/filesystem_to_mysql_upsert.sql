SET 'execution.runtime-mode' = 'batch';
SET 'parallelism.default' = '1';
SET 'pipeline.name' = 'sluice/job_01J0000000000000000000000A/orders filesystem to mysql (upsert)';
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
WHERE (`order_date` >= DATE '2024-01-01')
  AND (`order_date` < DATE '2024-01-02');

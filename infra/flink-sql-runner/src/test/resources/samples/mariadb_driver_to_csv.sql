-- MariaDB through the MariaDB driver: the jdbc connector picks its MySQL dialect from a
-- jdbc:mysql: URL, which the MariaDB driver accepts with permitMysqlScheme.
SET 'execution.runtime-mode' = 'batch';

CREATE TEMPORARY TABLE products (
    sku   STRING,
    name  STRING,
    price DECIMAL(10, 2)
) WITH (
    'connector' = 'jdbc',
    'url' = 'jdbc:mysql://127.0.0.1:3306/shop?permitMysqlScheme',
    'driver' = 'org.mariadb.jdbc.Driver',
    'table-name' = 'products',
    'username' = 'u',
    'password' = 'p'
);

CREATE TEMPORARY TABLE products_csv (
    sku   STRING,
    name  STRING,
    price DECIMAL(10, 2)
) WITH (
    'connector' = 'filesystem',
    'path' = 'file:///tmp/sluice-samples/products-csv',
    'format' = 'csv'
);

INSERT INTO products_csv SELECT sku, name, price FROM products WHERE price > 0;

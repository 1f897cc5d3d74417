package dev.sluice.jdbc;

import org.apache.flink.connector.jdbc.core.database.dialect.AbstractDialect;
import org.apache.flink.connector.jdbc.core.database.dialect.JdbcDialectConverter;
import org.apache.flink.table.types.logical.LogicalTypeRoot;
import org.apache.flink.table.types.logical.RowType;

import java.util.Arrays;
import java.util.EnumSet;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * What sluice's two dialects share: every table and column name decoded ({@link SluiceNames})
 * and quoted, and the exact row converter. The statements are AbstractDialect's, with the table
 * name quoted part by part instead of as one identifier.
 */
abstract class SluiceDialect extends AbstractDialect {

    private static final long serialVersionUID = 1L;

    /** One real (decoded) name, quoted for this database. */
    abstract String quoteName(String name);

    abstract ExactConverter.Flavor flavor();

    @Override
    public String quoteIdentifier(String identifier) {
        return quoteName(SluiceNames.decode(identifier));
    }

    /** {@code schema.table} or {@code table}, each part quoted. */
    String quoteTable(String tableName) {
        return SluiceNames.decodeTable(tableName).stream()
                .map(this::quoteName)
                .collect(Collectors.joining("."));
    }

    @Override
    public JdbcDialectConverter getRowConverter(RowType rowType) {
        return new ExactConverter(rowType, flavor());
    }

    @Override
    public String getInsertIntoStatement(String tableName, String[] fieldNames) {
        String columns = columns(fieldNames);
        String placeholders =
                Arrays.stream(fieldNames).map(f -> ":" + f).collect(Collectors.joining(", "));
        return "INSERT INTO " + quoteTable(tableName) + "(" + columns + ") VALUES (" + placeholders
                + ")";
    }

    @Override
    public String getUpdateStatement(
            String tableName, String[] fieldNames, String[] conditionFields) {
        return "UPDATE " + quoteTable(tableName) + " SET " + assignments(fieldNames, ", ")
                + " WHERE " + assignments(conditionFields, " AND ");
    }

    @Override
    public String getDeleteStatement(String tableName, String[] conditionFields) {
        return "DELETE FROM " + quoteTable(tableName) + " WHERE "
                + assignments(conditionFields, " AND ");
    }

    @Override
    public String getSelectFromStatement(
            String tableName, String[] selectFields, String[] conditionFields) {
        return "SELECT " + columns(selectFields) + " FROM " + quoteTable(tableName)
                + (conditionFields.length > 0
                        ? " WHERE " + assignments(conditionFields, " AND ")
                        : "");
    }

    @Override
    public String getRowExistsStatement(String tableName, String[] conditionFields) {
        return "SELECT 1 FROM " + quoteTable(tableName) + " WHERE "
                + assignments(conditionFields, " AND ");
    }

    @Override
    public String getLimitClause(long limit) {
        return "LIMIT " + limit;
    }

    @Override
    public Set<LogicalTypeRoot> supportedTypes() {
        return EnumSet.of(
                LogicalTypeRoot.CHAR,
                LogicalTypeRoot.VARCHAR,
                LogicalTypeRoot.BOOLEAN,
                LogicalTypeRoot.BINARY,
                LogicalTypeRoot.VARBINARY,
                LogicalTypeRoot.DECIMAL,
                LogicalTypeRoot.TINYINT,
                LogicalTypeRoot.SMALLINT,
                LogicalTypeRoot.INTEGER,
                LogicalTypeRoot.BIGINT,
                LogicalTypeRoot.FLOAT,
                LogicalTypeRoot.DOUBLE,
                LogicalTypeRoot.DATE,
                LogicalTypeRoot.TIME_WITHOUT_TIME_ZONE,
                LogicalTypeRoot.TIMESTAMP_WITHOUT_TIME_ZONE,
                LogicalTypeRoot.TIMESTAMP_WITH_LOCAL_TIME_ZONE);
    }

    String columns(String[] fields) {
        return Arrays.stream(fields).map(this::quoteIdentifier).collect(Collectors.joining(", "));
    }

    private String assignments(String[] fields, String separator) {
        return Arrays.stream(fields)
                .map(f -> quoteIdentifier(f) + " = :" + f)
                .collect(Collectors.joining(separator));
    }
}

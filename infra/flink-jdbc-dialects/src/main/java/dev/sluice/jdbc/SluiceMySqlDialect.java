package dev.sluice.jdbc;

import java.util.Arrays;
import java.util.Optional;
import java.util.stream.Collectors;

/** MySQL, MariaDB and TiDB: backtick-quoted names, ON DUPLICATE KEY UPDATE upserts. */
public class SluiceMySqlDialect extends SluiceDialect {

    private static final long serialVersionUID = 1L;

    @Override
    String quoteName(String name) {
        return SluiceNames.quoteMySql(name);
    }

    @Override
    ExactConverter.Flavor flavor() {
        return ExactConverter.Flavor.MYSQL;
    }

    @Override
    public String dialectName() {
        return "MySQL (sluice)";
    }

    @Override
    public Optional<String> defaultDriverName() {
        return Optional.of("com.mysql.cj.jdbc.Driver");
    }

    @Override
    public Optional<String> getUpsertStatement(
            String tableName, String[] fieldNames, String[] uniqueKeyFields) {
        String updates =
                Arrays.stream(fieldNames)
                        .map(f -> quoteIdentifier(f) + "=VALUES(" + quoteIdentifier(f) + ")")
                        .collect(Collectors.joining(", "));
        return Optional.of(
                getInsertIntoStatement(tableName, fieldNames)
                        + " ON DUPLICATE KEY UPDATE "
                        + updates);
    }

    /**
     * As Flink's MySQL dialect: batches are sent as one multi-row statement. Not on a URL that
     * asks for the binary protocol (sluice's MariaDB reads): the rewrite turns it off, and the text
     * protocol sends FLOAT values with six digits.
     */
    @Override
    public String appendDefaultUrlProperties(String url) {
        if (url.contains("rewriteBatchedStatements") || url.contains("useServerPrepStmts")) {
            return url;
        }
        return url + (url.contains("?") ? "&" : "?") + "rewriteBatchedStatements=true";
    }

    @Override
    public Optional<Range> decimalPrecisionRange() {
        return Optional.of(Range.of(1, 65));
    }

    @Override
    public Optional<Range> timestampPrecisionRange() {
        return Optional.of(Range.of(0, 6));
    }
}

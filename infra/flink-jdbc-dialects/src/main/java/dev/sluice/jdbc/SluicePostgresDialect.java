package dev.sluice.jdbc;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/** PostgreSQL: double-quoted names, ON CONFLICT upserts. */
public class SluicePostgresDialect extends SluiceDialect {

    private static final long serialVersionUID = 1L;

    @Override
    String quoteName(String name) {
        return SluiceNames.quotePostgres(name);
    }

    @Override
    ExactConverter.Flavor flavor() {
        return ExactConverter.Flavor.POSTGRES;
    }

    @Override
    public String dialectName() {
        return "PostgreSQL (sluice)";
    }

    @Override
    public Optional<String> defaultDriverName() {
        return Optional.of("org.postgresql.Driver");
    }

    @Override
    public Optional<String> getUpsertStatement(
            String tableName, String[] fieldNames, String[] uniqueKeyFields) {
        Set<String> keys = new HashSet<>(Arrays.asList(uniqueKeyFields));
        String updates =
                Arrays.stream(fieldNames)
                        .filter(f -> !keys.contains(f))
                        .map(f -> quoteIdentifier(f) + "=EXCLUDED." + quoteIdentifier(f))
                        .collect(Collectors.joining(", "));
        String action = updates.isEmpty() ? " DO NOTHING" : " DO UPDATE SET " + updates;
        return Optional.of(
                getInsertIntoStatement(tableName, fieldNames)
                        + " ON CONFLICT ("
                        + columns(uniqueKeyFields)
                        + ")"
                        + action);
    }

    @Override
    public Optional<Range> decimalPrecisionRange() {
        return Optional.of(Range.of(1, 1000));
    }

    @Override
    public Optional<Range> timestampPrecisionRange() {
        return Optional.of(Range.of(0, 6));
    }
}

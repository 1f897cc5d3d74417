package dev.sluice.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.math.BigDecimal;
import java.sql.SQLException;
import java.time.LocalTime;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class SluiceNamesTest {

    @Test
    void decodesEscapesAndKeepsEverythingElse() {
        assertEquals("a b", SluiceNames.decode("a$20$b"));
        assertEquals("Order-Id", SluiceNames.decode("Order$2d$Id"));
        assertEquals("名称", SluiceNames.decode("$540D$$79F0$"));
        assertEquals("名称", SluiceNames.decode("名称"));
        assertEquals("price$usd", SluiceNames.decode("price$24$usd"));
        assertEquals("😀", SluiceNames.decode("$1F600$"));
        // A $ that starts no escape stays.
        assertEquals("price$usd", SluiceNames.decode("price$usd"));
        assertEquals("a$", SluiceNames.decode("a$"));
        assertEquals("$$", SluiceNames.decode("$$"));
    }

    @Test
    void tablesDecodePartByPart() {
        assertEquals(List.of("public", "a.b"), SluiceNames.decodeTable("public.a$2e$b"));
        assertEquals(List.of("orders"), SluiceNames.decodeTable("orders"));
    }

    @Test
    void quotesPostgres() {
        assertEquals("\"order\"", SluiceNames.quotePostgres("order"));
        assertEquals("\"a\"\"b\"", SluiceNames.quotePostgres("a\"b"));
        assertEquals("U&\"a\\003Ab\\003F\\\\\"", SluiceNames.quotePostgres("a:b?\\"));
    }

    @Test
    void quotesMySql() {
        assertEquals("`select`", SluiceNames.quoteMySql("select"));
        assertEquals("`a``b`", SluiceNames.quoteMySql("a`b"));
    }

    @Test
    void postgresStatementsQuoteEveryName() {
        SluicePostgresDialect d = new SluicePostgresDialect();
        String[] fields = {"order", "a$20$b", "select"};
        assertEquals(
                "INSERT INTO \"public\".\"Order-Id\"(\"order\", \"a b\", \"select\") VALUES (:order, :a$20$b, :select)"
                        + " ON CONFLICT (\"order\") DO UPDATE SET \"a b\"=EXCLUDED.\"a b\", \"select\"=EXCLUDED.\"select\"",
                d.getUpsertStatement("public.Order$2d$Id", fields, new String[] {"order"}).get());
        assertEquals(
                "SELECT \"order\", \"a b\", \"select\" FROM \"t\"",
                d.getSelectFromStatement("t", fields, new String[0]));
        assertEquals(
                Optional.of("INSERT INTO \"t\"(\"k\") VALUES (:k) ON CONFLICT (\"k\") DO NOTHING"),
                d.getUpsertStatement("t", new String[] {"k"}, new String[] {"k"}));
    }

    @Test
    void mysqlStatementsQuoteEveryName() {
        SluiceMySqlDialect d = new SluiceMySqlDialect();
        assertEquals(
                "INSERT INTO `名称`(`order`, `a b`) VALUES (:order, :a$20$b) ON DUPLICATE KEY UPDATE"
                        + " `order`=VALUES(`order`), `a b`=VALUES(`a b`)",
                d.getUpsertStatement("$540D$$79F0$", new String[] {"order", "a$20$b"},
                        new String[] {"order"}).get());
    }

    @Test
    void mysqlUrlsBatchAsFlinksDialectDoes() {
        SluiceMySqlDialect d = new SluiceMySqlDialect();
        assertEquals("jdbc:mysql://h/db?rewriteBatchedStatements=true",
                d.appendDefaultUrlProperties("jdbc:mysql://h/db"));
        assertEquals("jdbc:mysql://h/db?a=1&rewriteBatchedStatements=true",
                d.appendDefaultUrlProperties("jdbc:mysql://h/db?a=1"));
        assertEquals("jdbc:mysql://h/db?rewriteBatchedStatements=false",
                d.appendDefaultUrlProperties("jdbc:mysql://h/db?rewriteBatchedStatements=false"));
        assertEquals("jdbc:mysql://h/db?useServerPrepStmts=true",
                d.appendDefaultUrlProperties("jdbc:mysql://h/db?useServerPrepStmts=true"));
    }

    @Test
    void decimalsAreNeverRoundedOrNulled() throws SQLException {
        assertEquals(
                new BigDecimal("1.50"),
                ExactConverter.exactDecimal("c", new BigDecimal("1.5"), 5, 2).toBigDecimal());
        assertThrows(SQLException.class,
                () -> ExactConverter.exactDecimal("c", new BigDecimal("1.555"), 5, 2));
        assertThrows(SQLException.class,
                () -> ExactConverter.exactDecimal("c", new BigDecimal("1234"), 5, 2));
    }

    @Test
    void timesBelowTheMillisecondAreRefused() throws SQLException {
        assertEquals(1, ExactConverter.millisOfDay("c", LocalTime.of(0, 0, 0, 1_000_000)));
        assertThrows(SQLException.class,
                () -> ExactConverter.millisOfDay("c", LocalTime.of(0, 0, 0, 1_000)));
    }

    @Test
    void postgresInfinityFailsTheReadAndEarlyDatesAreWrittenAsText() throws Exception {
        assertEquals(0, ExactConverter.epochDay("d", java.time.LocalDate.of(1970, 1, 1)));
        assertThrows(
                java.sql.SQLException.class,
                () -> ExactConverter.epochDay("d", java.time.LocalDate.MAX));
        assertThrows(
                java.sql.SQLException.class,
                () -> ExactConverter.epochDay("d", java.time.LocalDate.MIN));
        assertThrows(
                java.sql.SQLException.class,
                () -> ExactConverter.finite("t", java.time.LocalDateTime.MAX));
        assertThrows(
                java.sql.SQLException.class,
                () -> ExactConverter.finite("t", java.time.OffsetDateTime.MIN));

        // 4713 BC (ISO -4712) and later: the driver writes them exactly.
        assertEquals(
                null,
                ExactConverter.postgresBcText(java.time.LocalDate.of(-4712, 1, 1), null, null));
        // Before it: PostgreSQL's own text, ISO year -4713 being 4714 BC.
        assertEquals(
                "4714-11-24 BC",
                ExactConverter.postgresBcText(java.time.LocalDate.of(-4713, 11, 24), null, null));
        assertEquals(
                "4714-11-24 00:00:00.000001 BC",
                ExactConverter.postgresBcText(
                        java.time.LocalDate.of(-4713, 11, 24),
                        java.time.LocalTime.of(0, 0, 0, 1_000),
                        null));
        assertEquals(
                "4714-12-31 23:59:59.5+00 BC",
                ExactConverter.postgresBcText(
                        java.time.LocalDate.of(-4713, 12, 31),
                        java.time.LocalTime.of(23, 59, 59, 500_000_000),
                        "+00"));
    }
}

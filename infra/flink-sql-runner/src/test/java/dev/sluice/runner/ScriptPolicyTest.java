package dev.sluice.runner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.runner.ScriptPolicy.Kind;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ScriptPolicyTest {

    static final String TABLES = """
            CREATE TEMPORARY TABLE `src` (id BIGINT) WITH ('connector' = 'datagen', 'number-of-rows' = '10');
            CREATE TEMPORARY TABLE dst (id BIGINT) WITH ('connector' = 'blackhole');
            """;
    static final String INSERT = "INSERT INTO dst SELECT id FROM `src`;\n";

    static ScriptPolicy.Plan check(String script) throws RunnerException {
        return ScriptPolicy.check(script);
    }

    @Test
    void admitsWhatTheRendererWrites() throws Exception {
        ScriptPolicy.Plan plan = check("""
                -- rendered by sluice
                SET 'execution.runtime-mode' = 'batch';
                SET 'parallelism.default' = '1';
                SET 'pipeline.name' = 'sluice/job_01J/it''s a name';
                CREATE TEMPORARY TABLE `src` (`id` BIGINT) WITH ('connector' = 'jdbc', 'password' = 'x;y');
                CREATE TEMPORARY VIEW v AS SELECT * FROM `src`;
                CREATE TEMPORARY TABLE IF NOT EXISTS `dst` (`id` BIGINT) WITH ('connector' = 'blackhole');
                INSERT INTO `dst` SELECT `id` FROM `src` WHERE `id` > 1;
                insert /* a comment */ into `dst` select id from v;
                INSERT OVERWRITE `dst` SELECT 1;
                """);
        assertEquals(Map.of("execution.runtime-mode", "batch", "parallelism.default", "1",
                "pipeline.name", "sluice/job_01J/it's a name"), plan.settings());
        assertEquals(List.of(Kind.DDL, Kind.DDL, Kind.DDL, Kind.INSERT, Kind.INSERT, Kind.INSERT),
                plan.statements().stream().map(ScriptPolicy.Checked::kind).toList());
        assertEquals(List.of(4, 5, 6, 7, 8, 9), plan.statements().stream().map(ScriptPolicy.Checked::number).toList());
        assertEquals("batch", plan.runtimeMode());
    }

    @Test
    void streamingIsTheDefaultMode() throws Exception {
        assertEquals("streaming", check(TABLES + INSERT).runtimeMode());
        assertEquals("streaming", check("SET 'execution.runtime-mode' = 'STREAMING';" + TABLES + INSERT).runtimeMode());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "execution.runtime-mode|batch",
        "execution.runtime-mode|streaming",
        "parallelism.default|4",
        "pipeline.name|sluice/job_01J0000000000000000000000A/orders → dwh",
        "pipeline.object-reuse|true",
        "pipeline.operator-chaining.enabled|false",
        "table.exec.resource.default-parallelism|-1",
        "table.exec.resource.default-parallelism|2",
        "execution.checkpointing.interval|30 s",
        "execution.checkpointing.interval|10min",
        "execution.checkpointing.interval|60000",
        "execution.checkpointing.timeout|10 min",
        "execution.checkpointing.min-pause|500ms",
        "execution.checkpointing.mode|AT_LEAST_ONCE",
        "table.exec.sink.not-null-enforcer|DROP",
        "table.exec.sink.type-length-enforcer|TRIM_PAD",
        "table.exec.sink.upsert-materialize|NONE",
        "table.exec.sink.keyed-shuffle|FORCE",
        "table.exec.source.idle-timeout|5 s",
        "table.exec.state.ttl|1 d",
        "table.exec.mini-batch.enabled|true",
        "table.exec.mini-batch.allow-latency|2 s",
        "table.exec.mini-batch.size|1000",
        "table.optimizer.agg-phase-strategy|TWO_PHASE",
        "table.local-time-zone|Europe/Berlin",
        "table.local-time-zone|UTC",
        "table.local-time-zone|GMT+08:00",
    })
    void admitsAllowListedSettings(String key, String value) throws Exception {
        ScriptPolicy.Plan plan = check("SET '" + key + "' = '" + value + "';\n" + TABLES + INSERT);
        assertEquals(Map.of(key, value), plan.settings());
    }

    @Test
    void everyAllowListedKeyIsCoveredAbove() throws Exception {
        // keep the parameterized list above in step with the allow-list
        String source = Files.readString(Path.of("src/test/java/dev/sluice/runner/ScriptPolicyTest.java"));
        for (String key : ScriptPolicy.ALLOWED_SETTINGS.keySet()) {
            assertTrue(source.contains("\"" + key + "|"), "no accepted-value case for " + key);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "pipeline.jars", "pipeline.classpaths", "pipeline.global-job-parameters", "classloader.resolve-order",
        "classloader.parent-first-patterns.additional", "security.ssl.enabled", "security.kerberos.login.keytab",
        "security.delegation.tokens.enabled", "table.dml-sync", "table.resources.download-dir",
        "state.backend.type", "state.checkpoints.dir", "execution.checkpointing.dir", "execution.savepoint.path",
        "env.java.opts.all", "python.files", "python.executable", "rest.address", "jobmanager.rpc.address",
        "table.exec.async-lookup.buffer-capacity", "sql-client.execution.result-mode", "table.sql-dialect",
        "restart-strategy.type", "fs.s3a.secret.key", "s3.secret-key", "kubernetes.container.image",
        "Parallelism.default", "parallelism.default ", " parallelism.default", "", "table.plan.force-recompile",
        "$internal.pipeline.job-id", "pipeline.generic-types"
    })
    void refusesOtherSettingsNamingTheKey(String key) {
        RunnerException e = assertThrows(RunnerException.class,
                () -> check(TABLES + "SET '" + key + "' = 'x';\n" + INSERT));
        assertTrue(e.getMessage().contains("statement 3 (line 3): SET of '" + key.replaceAll("[^A-Za-z0-9._\\-]", "?") + "' is not allowed"),
                e.getMessage());
        assertFalse(e.getMessage().contains("'x'"), e.getMessage());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "execution.runtime-mode|automatic",
        "parallelism.default|0",
        "parallelism.default|-1",
        "parallelism.default|1; DROP",
        "parallelism.default|9999999",
        "table.exec.resource.default-parallelism|0",
        "pipeline.object-reuse|yes",
        "pipeline.operator-chaining.enabled|no",
        "execution.checkpointing.interval|soon",
        "table.exec.sink.not-null-enforcer|org.example.Evil",
        "table.local-time-zone|../../etc/passwd x",
    })
    void refusesValuesOfTheWrongForm(String key, String value) {
        RunnerException e = assertThrows(RunnerException.class,
                () -> check("SET '" + key + "' = '" + value + "';\n" + TABLES + INSERT));
        assertTrue(e.getMessage().contains("SET '" + key + "' has a value of the wrong form"), e.getMessage());
        assertFalse(e.getMessage().contains(value), e.getMessage());
    }

    @Test
    void refusesAKeySetTwice() {
        RunnerException e = assertThrows(RunnerException.class,
                () -> check("SET 'parallelism.default' = '1'; SET 'parallelism.default' = '2';" + TABLES + INSERT));
        assertTrue(e.getMessage().contains("more than once"), e.getMessage());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "DROP TABLE dst|DROP TABLE",
        "DROP TEMPORARY TABLE dst|DROP TEMPORARY TABLE",
        "CREATE CATALOG c WITH ('type' = 'jdbc', 'password' = 'hunter22')|CREATE CATALOG",
        "CREATE FUNCTION f AS 'com.example.Evil' USING JAR '/tmp/evil.jar'|CREATE FUNCTION",
        "CREATE TEMPORARY FUNCTION f AS 'com.example.Evil'|CREATE TEMPORARY FUNCTION",
        "CREATE TEMPORARY SYSTEM FUNCTION f AS 'com.example.Evil'|CREATE TEMPORARY SYSTEM FUNCTION",
        "CREATE TABLE t (x INT) WITH ('connector' = 'blackhole')|CREATE TABLE",
        "CREATE DATABASE d|CREATE DATABASE",
        "CREATE VIEW v AS SELECT 1|CREATE VIEW",
        "ALTER TABLE dst SET ('connector' = 'print')|ALTER TABLE",
        "LOAD MODULE hive WITH ('hive-version' = '3.1.3')|LOAD MODULE",
        "UNLOAD MODULE core|UNLOAD MODULE",
        "ADD JAR '/tmp/evil.jar'|ADD JAR",
        "REMOVE JAR '/tmp/evil.jar'|REMOVE JAR",
        "EXECUTE STATEMENT SET BEGIN INSERT INTO dst SELECT 1; END|EXECUTE STATEMENT SET",
        "EXECUTE INSERT INTO dst SELECT 1|EXECUTE INSERT INTO",
        "EXECUTE PLAN '/tmp/plan.json'|EXECUTE PLAN",
        "BEGIN STATEMENT SET|BEGIN STATEMENT SET",
        "END|END",
        "SELECT * FROM `src`|SELECT",
        "WITH x AS (SELECT 1) SELECT * FROM x|WITH X AS",
        "USE CATALOG c|USE CATALOG",
        "SHOW TABLES|SHOW TABLES",
        "DESCRIBE dst|DESCRIBE DST",
        "EXPLAIN INSERT INTO dst SELECT 1|EXPLAIN INSERT INTO DST",
        "RESET 'parallelism.default'|RESET",
        "RESET|RESET",
        "CALL sys.compact('t')|CALL SYS",
        "DELETE FROM dst|DELETE FROM DST",
        "UPDATE dst SET id = 1|UPDATE DST SET ID",
        "TRUNCATE TABLE dst|TRUNCATE TABLE DST",
        "ANALYZE TABLE dst COMPUTE STATISTICS|ANALYZE TABLE DST COMPUTE",
        "/* hidden */ DROP TABLE dst|DROP TABLE",
        "(SELECT 1)|a statement that does not start with a keyword",
        "INSERT dst SELECT 1|INSERT DST SELECT",
        "SET|a SET that is not of the form",
        "SET parallelism.default = 2|a SET that is not of the form",
        "SET 'parallelism.default' = '2' , 'pipeline.jars' = 'x'|a SET that is not of the form",
    })
    void refusesOtherStatementKindsBeforeRunningAnything(String statement, String kind) {
        RunnerException e = assertThrows(RunnerException.class, () -> check(TABLES + INSERT + statement + ";\n"));
        assertTrue(e.getMessage().startsWith("statement 4 (line 4): " + kind), e.getMessage());
        for (String secret : List.of("hunter22", "evil.jar", "com.example.Evil", "plan.json")) {
            assertFalse(e.getMessage().contains(secret), e.getMessage());
        }
    }

    @Test
    void createTemporaryTableAsSelectIsLeftToTheSecondCheck() throws Exception {
        // Its leading keywords are those of a temporary table; FlinkSubmitter then refuses the
        // operation Flink makes of it (a CTAS is a modify operation, not a CreateTableOperation).
        assertEquals(Kind.DDL, check(TABLES + "CREATE TEMPORARY TABLE t AS SELECT 1;" + INSERT).statements().get(2).kind());
    }

    @Test
    void refusesScriptsWithoutInsert() {
        RunnerException e = assertThrows(RunnerException.class, () -> check("SET 'parallelism.default' = '1';" + TABLES));
        assertTrue(e.getMessage().contains("no INSERT"), e.getMessage());
        RunnerException select = assertThrows(RunnerException.class, () -> check(TABLES + "SELECT * FROM `src`;"));
        assertTrue(select.getMessage().contains("SELECT is not allowed"), select.getMessage());
        assertThrows(RunnerException.class, () -> check(""));
        assertThrows(RunnerException.class, () -> check("-- only a comment\n;;"));
    }

    @Test
    void theSampleScriptsAreAdmitted() throws IOException {
        try (Stream<Path> files = Files.list(Path.of("src/test/resources/samples"))) {
            List<Path> samples = files.filter(p -> p.toString().endsWith(".sql")).sorted().toList();
            assertFalse(samples.isEmpty());
            for (Path sample : samples) {
                String script = Files.readString(sample, StandardCharsets.UTF_8);
                try {
                    ScriptPolicy.check(script);
                } catch (RunnerException e) {
                    throw new AssertionError(sample + ": " + e.getMessage(), e);
                }
            }
        }
    }

    @Test
    void leadingWordsSkipComments() {
        assertEquals(List.of("CREATE", "TEMPORARY", "TABLE"),
                ScriptPolicy.leadingWords("/* a */ CREATE -- b\n TEMPORARY/*c*/TABLE `x`", 4));
        assertEquals(List.of("INSERT", "INTO"), ScriptPolicy.leadingWords("INSERT INTO `t` SELECT", 4));
    }
}

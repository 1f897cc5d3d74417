package dev.sluice.runner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import org.junit.jupiter.api.Test;

class RedactorTest {

    static final String SCRIPT = """
            SET 'pipeline.name' = 'sluice/job_1/orders';
            CREATE TEMPORARY TABLE src (id BIGINT) WITH (
                'connector' = 'jdbc',
                'url' = 'jdbc:postgresql://127.0.0.1:5432/shop?password=url-secret',
                'username' = 'reader',
                'password' = 'canary-p''w-7f3a'
            );
            CREATE TEMPORARY TABLE dst (id BIGINT) WITH ('connector' = 'blackhole');
            INSERT INTO dst SELECT id FROM src WHERE note = 'customer data';
            """;

    @Test
    void findsLiteralsWithTheirRoles() {
        List<Redactor.Literal> literals = Redactor.literals("WITH ('connector' = 'jdbc', 'password' = 'a''b') WHERE x = 'y'");
        assertEquals(List.of(
                new Redactor.Literal("connector", true, null),
                new Redactor.Literal("jdbc", false, "connector"),
                new Redactor.Literal("password", true, null),
                new Redactor.Literal("a'b", false, "password"),
                new Redactor.Literal("y", false, null)), literals);
    }

    @Test
    void masksValuesKeepsKeysAndConnectorNames() {
        Redactor r = new Redactor(SCRIPT);
        String message = "Unable to create a source for reading table 'default_catalog.default_database.src'.\n"
                + "Table options are:\n'connector'='jdbc'\n'password'='canary-p'w-7f3a'\n"
                + "'url'='jdbc:postgresql://127.0.0.1:5432/shop?password=url-secret'\n'username'='reader'"
                + " filter note = 'customer data' written as 'canary-p''w-7f3a'";
        String redacted = r.redact(message);
        assertFalse(redacted.contains("canary"), redacted);
        assertFalse(redacted.contains("url-secret"), redacted);
        assertFalse(redacted.contains("reader"), redacted);
        assertFalse(redacted.contains("customer data"), redacted);
        assertTrue(redacted.contains("'connector'='jdbc'"), redacted);
        assertTrue(redacted.contains("'password'='******'"), redacted);
        assertTrue(redacted.contains("'username'='******'"), redacted);
    }

    @Test
    void masksValuesInsideUrlsAndJaasConfigs() {
        Redactor r = new Redactor("CREATE TEMPORARY TABLE k (x INT) WITH ("
                + "'properties.sasl.jaas.config' = 'org.apache.kafka.common.security.plain.PlainLoginModule required"
                + " username=\"svc\" password=\"kafka-secret\\\"x\";');");
        String redacted = r.redact("login failed for kafka-secret\\\"x and jaas password=\"kafka-secret\\\"x\"");
        assertFalse(redacted.contains("kafka-secret"), redacted);
    }

    @Test
    void masksWholeStatements() {
        Redactor r = new Redactor(SCRIPT);
        String statement = "INSERT INTO dst SELECT id FROM src WHERE note = 'customer data'";
        assertEquals("failed: <statement 4>", r.redact("failed: " + statement));
        assertNull(r.redact(null));
    }

    @Test
    void sanitizedChainsKeepClassesAndFramesOnly() {
        Redactor r = new Redactor(SCRIPT);
        IllegalStateException root = new IllegalStateException("bad password canary-p'w-7f3a");
        RuntimeException outer = new RuntimeException("while creating src with 'url-secret'", root);
        Redactor.Sanitized s = r.sanitize(outer);
        assertEquals(RuntimeException.class.getName(), s.originalClass());
        assertEquals("while creating src with '******'", s.getMessage());
        Redactor.Sanitized cause = (Redactor.Sanitized) s.getCause();
        assertEquals(IllegalStateException.class.getName(), cause.originalClass());
        assertEquals("bad password ******", cause.getMessage());
        assertNull(cause.getCause());
        assertEquals(outer.getStackTrace().length, s.getStackTrace().length);
        StringWriter trace = new StringWriter();
        s.printStackTrace(new PrintWriter(trace));
        assertFalse(trace.toString().contains("canary"), trace.toString());
        assertTrue(trace.toString().startsWith("java.lang.RuntimeException: while creating"), trace.toString());
        String root1 = r.rootMessage(outer);
        assertEquals("while creating src with '******' | root cause: IllegalStateException: bad password ******", root1);
    }
}

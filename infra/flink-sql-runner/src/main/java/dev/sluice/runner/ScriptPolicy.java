package dev.sluice.runner;

import dev.sluice.runner.StatementSplitter.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a script may contain, checked on the whole script before anything runs:
 *
 * <ul>
 *   <li>{@code SET 'key' = 'value'} for the keys of {@link #ALLOWED_SETTINGS} only, each with a
 *       value of the expected form and at most once. Everything else is refused by name — in
 *       particular keys that name classes, jars, paths or security settings ({@code
 *       pipeline.jars}, {@code pipeline.classpaths}, {@code classloader.*}, {@code security.*},
 *       {@code state.backend.*}, {@code table.resources.download-dir}, {@code table.dml-sync}, ...);
 *   <li>{@code CREATE TEMPORARY TABLE} and {@code CREATE TEMPORARY VIEW};
 *   <li>{@code INSERT INTO} / {@code INSERT OVERWRITE}, at least one.
 * </ul>
 *
 * <p>Any other statement kind (DROP, ALTER, CREATE CATALOG / DATABASE / FUNCTION / TABLE without
 * TEMPORARY, LOAD MODULE, ADD JAR, EXECUTE, BEGIN STATEMENT SET, SELECT, SHOW, USE, CALL, RESET,
 * ...) is refused. The check reads the leading keywords (comments skipped); {@link
 * FlinkSubmitter} checks again, on the operation Flink's parser makes of each statement, that the
 * kind is the one found here. Error messages name the statement by number, line and kind, and the
 * key of a refused SET, never values or SQL text.
 */
final class ScriptPolicy {

    enum Kind {
        SET,
        DDL,
        INSERT
    }

    /** A statement the policy admitted. {@code number} is 1-based. */
    record Checked(Statement statement, int number, Kind kind, String label) {}

    /** An admitted script: its settings (in script order) and its DDL and INSERT statements in order. */
    record Plan(Map<String, String> settings, List<Checked> statements) {
        String runtimeMode() {
            return settings.getOrDefault(RUNTIME_MODE, "streaming").toLowerCase(Locale.ROOT);
        }
    }

    static final String RUNTIME_MODE = "execution.runtime-mode";
    static final int MAX_STATEMENTS = 500;

    private static final String DURATION = "[0-9]{1,12}\\s*(ms|milli|millis|millisecond|milliseconds|s|sec|secs|second|seconds"
            + "|min|m|minute|minutes|h|hour|hours|d|day|days)?";
    private static final String BOOLEAN = "(?i)true|false";
    private static final String POSITIVE_INT = "[1-9][0-9]{0,5}";

    /** The settings a script may change, each with the form its value must have. */
    static final Map<String, Pattern> ALLOWED_SETTINGS;

    static {
        Map<String, String> m = new LinkedHashMap<>();
        m.put(RUNTIME_MODE, "(?i)batch|streaming");
        m.put("parallelism.default", POSITIVE_INT);
        m.put("pipeline.name", "[^\\p{Cntrl}]{1,200}");
        m.put("pipeline.object-reuse", BOOLEAN);
        // Row counts: unchained, Flink counts the rows between source and sink (the compiler sets
        // it to false; see shared/flink/src/job_metrics.rs).
        m.put("pipeline.operator-chaining.enabled", BOOLEAN);
        m.put("table.exec.resource.default-parallelism", "-1|" + POSITIVE_INT);
        m.put("execution.checkpointing.interval", DURATION);
        m.put("execution.checkpointing.timeout", DURATION);
        m.put("execution.checkpointing.min-pause", DURATION);
        m.put("execution.checkpointing.mode", "(?i)EXACTLY_ONCE|AT_LEAST_ONCE");
        m.put("table.exec.sink.not-null-enforcer", "(?i)ERROR|DROP");
        m.put("table.exec.sink.type-length-enforcer", "(?i)IGNORE|TRIM_PAD");
        m.put("table.exec.sink.upsert-materialize", "(?i)NONE|AUTO|FORCE|ADAPTIVE");
        m.put("table.exec.sink.keyed-shuffle", "(?i)NONE|AUTO|FORCE");
        m.put("table.exec.source.idle-timeout", DURATION);
        m.put("table.exec.state.ttl", DURATION);
        m.put("table.exec.mini-batch.enabled", BOOLEAN);
        m.put("table.exec.mini-batch.allow-latency", DURATION);
        m.put("table.exec.mini-batch.size", "-1|" + POSITIVE_INT);
        m.put("table.optimizer.agg-phase-strategy", "(?i)AUTO|ONE_PHASE|TWO_PHASE");
        m.put("table.local-time-zone", "[A-Za-z0-9_+\\-/:]{1,64}");
        Map<String, Pattern> compiled = new LinkedHashMap<>();
        m.forEach((k, v) -> compiled.put(k, Pattern.compile(v)));
        ALLOWED_SETTINGS = Collections.unmodifiableMap(compiled);
    }

    private static final Pattern SET =
            Pattern.compile("(?s)SET\\s+'((?:[^']|'')*)'\\s*=\\s*'((?:[^']|'')*)'", Pattern.CASE_INSENSITIVE);

    private ScriptPolicy() {}

    static Plan check(String script) throws RunnerException {
        List<Statement> statements = StatementSplitter.splitWithLines(script);
        if (statements.isEmpty()) {
            throw new RunnerException("the script has no statements");
        }
        if (statements.size() > MAX_STATEMENTS) {
            throw new RunnerException("the script has more than " + MAX_STATEMENTS + " statements");
        }
        Map<String, String> settings = new LinkedHashMap<>();
        List<Checked> checked = new ArrayList<>();
        int inserts = 0;
        for (int i = 0; i < statements.size(); i++) {
            Statement statement = statements.get(i);
            int number = i + 1;
            List<String> words = leadingWords(statement.sql(), 4);
            String first = words.isEmpty() ? "" : words.get(0);
            String second = words.size() > 1 ? words.get(1) : "";
            String third = words.size() > 2 ? words.get(2) : "";
            if (first.equals("SET")) {
                Matcher m = SET.matcher(statement.sql());
                if (!m.matches()) {
                    throw refuse(statement, number, "a SET that is not of the form SET 'key' = 'value'");
                }
                String key = m.group(1).replace("''", "'");
                String value = m.group(2).replace("''", "'");
                Pattern form = ALLOWED_SETTINGS.get(key);
                if (form == null) {
                    throw new RunnerException(where(statement, number) + "SET of '" + printableKey(key)
                            + "' is not allowed (allowed keys: " + String.join(", ", ALLOWED_SETTINGS.keySet()) + ")");
                }
                if (!form.matcher(value).matches()) {
                    throw new RunnerException(where(statement, number) + "SET '" + key + "' has a value of the wrong form");
                }
                if (settings.containsKey(key)) {
                    throw new RunnerException(where(statement, number) + "SET '" + key + "' is given more than once");
                }
                settings.put(key, value);
            } else if (first.equals("CREATE") && second.equals("TEMPORARY") && (third.equals("TABLE") || third.equals("VIEW"))) {
                checked.add(new Checked(statement, number, Kind.DDL, "CREATE TEMPORARY " + third));
            } else if (first.equals("INSERT") && (second.equals("INTO") || second.equals("OVERWRITE"))) {
                checked.add(new Checked(statement, number, Kind.INSERT, "INSERT " + second));
                inserts++;
            } else {
                throw refuse(statement, number, describe(words));
            }
        }
        if (inserts == 0) {
            throw new RunnerException("the script has no INSERT statement (scripts without INSERT, such as"
                    + " SELECT-only scripts, are not run)");
        }
        return new Plan(Collections.unmodifiableMap(settings), Collections.unmodifiableList(checked));
    }

    private static RunnerException refuse(Statement statement, int number, String kind) {
        return new RunnerException(where(statement, number) + kind + " is not allowed; a script may only contain"
                + " SET (allow-listed keys), CREATE TEMPORARY TABLE, CREATE TEMPORARY VIEW and INSERT INTO");
    }

    static String where(Statement statement, int number) {
        return "statement " + number + " (line " + statement.line() + "): ";
    }

    /** The statement kind for a message: its leading keywords only. */
    private static String describe(List<String> words) {
        if (words.isEmpty()) {
            return "a statement that does not start with a keyword";
        }
        return String.join(" ", words);
    }

    /** A refused key as it may appear in a message: keys are not secret, but keep them tame. */
    private static String printableKey(String key) {
        String s = key.replaceAll("[^A-Za-z0-9._\\-]", "?");
        return s.length() > 100 ? s.substring(0, 97) + "..." : s;
    }

    /**
     * Up to {@code max} leading words of {@code sql} (letters, digits and {@code _}, upper-cased),
     * skipping whitespace and comments; stops at the first character that is not part of a word.
     */
    static List<String> leadingWords(String sql, int max) {
        List<String> words = new ArrayList<>();
        int i = 0;
        int n = sql.length();
        while (i < n && words.size() < max) {
            char c = sql.charAt(i);
            if (Character.isWhitespace(c)) {
                i++;
            } else if (c == '-' && i + 1 < n && sql.charAt(i + 1) == '-') {
                while (i < n && sql.charAt(i) != '\n') {
                    i++;
                }
            } else if (c == '/' && i + 1 < n && sql.charAt(i + 1) == '*') {
                int end = sql.indexOf("*/", i + 2);
                i = end < 0 ? n : end + 2;
            } else if (isWordChar(c)) {
                int start = i;
                while (i < n && isWordChar(sql.charAt(i))) {
                    i++;
                }
                words.add(sql.substring(start, i).toUpperCase(Locale.ROOT));
            } else {
                break;
            }
        }
        return words;
    }

    private static boolean isWordChar(char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    }
}

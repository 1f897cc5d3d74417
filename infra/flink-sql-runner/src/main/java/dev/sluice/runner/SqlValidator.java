package dev.sluice.runner;

import dev.sluice.runner.StatementSplitter.Statement;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.table.api.EnvironmentSettings;
import org.apache.flink.table.api.StatementSet;
import org.apache.flink.table.api.TableEnvironment;
import org.apache.flink.table.api.internal.TableEnvironmentInternal;
import org.apache.flink.table.operations.BeginStatementSetOperation;
import org.apache.flink.table.operations.DescribeTableOperation;
import org.apache.flink.table.operations.EndStatementSetOperation;
import org.apache.flink.table.operations.ExplainOperation;
import org.apache.flink.table.operations.LoadModuleOperation;
import org.apache.flink.table.operations.ModifyOperation;
import org.apache.flink.table.operations.Operation;
import org.apache.flink.table.operations.QueryOperation;
import org.apache.flink.table.operations.ShowOperation;
import org.apache.flink.table.operations.UnloadModuleOperation;
import org.apache.flink.table.operations.UseOperation;
import org.apache.flink.table.operations.command.ResetOperation;
import org.apache.flink.table.operations.command.SetOperation;
import org.apache.flink.table.operations.ddl.AlterOperation;
import org.apache.flink.table.operations.ddl.CreateCatalogOperation;
import org.apache.flink.table.operations.ddl.CreateOperation;
import org.apache.flink.table.operations.ddl.DropOperation;

/**
 * Validates Flink SQL scripts without running them:
 *
 * <pre>java -cp flink-sql-runner.jar:$FLINK_HOME/lib/* dev.sluice.runner.SqlValidator [--explain] FILE...</pre>
 *
 * <p>Each file gets a fresh {@link TableEnvironment}, in batch or streaming mode as its {@code SET
 * 'execution.runtime-mode'} says (streaming if it has none), configured with all of its {@code SET
 * 'key' = 'value'} statements. DDL runs (it only touches the in-memory catalog), a query is
 * explained, and all INSERTs (any modify operation, e.g. CTAS) go into one {@link StatementSet},
 * which is explained: that optimizes the whole job with the real planner and translates it to
 * transformations, so the connector and format factories validate their options and build their
 * runtime providers (JDBC dialect and statements, Kafka source, file sink). Nothing is executed.
 *
 * <p>Planning does not connect anywhere: the JDBC connector opens connections only in its input
 * formats and sink writers at run time, and the Kafka connector only in its enumerator and readers
 * (checked by planning JDBC and Kafka tables that point at a listening socket that recorded no
 * connection). What does connect at creation is a catalog (JdbcCatalog reads the database), so
 * {@code CREATE CATALOG} is refused here: sluice scripts declare their tables as temporary tables.
 *
 * <p>Prints {@code OK <file>} or {@code FAIL <file>: <error>} per file, and exits with 1 if any
 * file failed (2 on bad usage).
 */
public final class SqlValidator {

    private static final Pattern SET =
            Pattern.compile("(?is)SET\\s+'((?:[^']|'')*)'\\s*=\\s*'((?:[^']|'')*)'");
    private static final Pattern FIRST_WORD = Pattern.compile("^\\s*([A-Za-z]+)");
    private static final String RUNTIME_MODE = "execution.runtime-mode";

    private SqlValidator() {}

    public static void main(String[] args) {
        boolean explain = false;
        List<String> files = new java.util.ArrayList<>();
        for (String arg : args) {
            if (arg.equals("--explain")) {
                explain = true;
            } else if (arg.startsWith("--")) {
                usage();
                System.exit(2);
            } else {
                files.add(arg);
            }
        }
        if (files.isEmpty()) {
            usage();
            System.exit(2);
        }
        int failed = 0;
        for (String file : files) {
            try {
                String plan = validate(Files.readString(Path.of(file), StandardCharsets.UTF_8));
                System.out.println("OK " + file);
                if (explain && plan != null) {
                    System.out.println(plan);
                }
            } catch (ScriptException e) {
                failed++;
                System.out.println("FAIL " + file + ": " + e.getMessage());
            } catch (IOException e) {
                failed++;
                System.out.println("FAIL " + file + ": cannot read: " + e);
            } catch (RuntimeException e) {
                failed++;
                System.out.println("FAIL " + file + ": " + describe(e));
            }
            System.out.flush();
        }
        System.exit(failed == 0 ? 0 : 1);
    }

    private static void usage() {
        System.err.println("usage: SqlValidator [--explain] FILE.sql...");
    }

    /** An invalid script; the message says which statement and why. */
    public static final class ScriptException extends Exception {
        ScriptException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /**
     * Validates one script. Returns the explained plan of its INSERTs (null if it has none), or
     * throws {@link ScriptException}.
     */
    public static String validate(String script) throws ScriptException {
        List<Statement> statements = StatementSplitter.splitWithLines(script);
        if (statements.isEmpty()) {
            throw new ScriptException("no statements", null);
        }

        // SET statements configure the environment, so they are read first, wherever they are.
        Map<String, String> settings = new LinkedHashMap<>();
        for (Statement statement : statements) {
            if (firstWord(statement).equals("SET")) {
                Matcher m = SET.matcher(statement.sql());
                if (!m.matches()) {
                    throw new ScriptException(where(statement) + "expected SET 'key' = 'value'", null);
                }
                settings.put(m.group(1).replace("''", "'"), m.group(2).replace("''", "'"));
            }
        }
        String mode = settings.getOrDefault(RUNTIME_MODE, "streaming").trim().toLowerCase();
        EnvironmentSettings.Builder builder = EnvironmentSettings.newInstance();
        switch (mode) {
            case "batch" -> builder.inBatchMode();
            case "streaming" -> builder.inStreamingMode();
            default -> throw new ScriptException(
                    "'" + RUNTIME_MODE + "' must be 'batch' or 'streaming', not '" + mode + "'", null);
        }
        Configuration configuration = Configuration.fromMap(settings);
        TableEnvironment tableEnv;
        try {
            tableEnv = TableEnvironment.create(builder.withConfiguration(configuration).build());
        } catch (Exception | LinkageError e) {
            throw new ScriptException("invalid configuration: " + describe(e), e);
        }
        TableEnvironmentInternal internal = (TableEnvironmentInternal) tableEnv;

        StatementSet inserts = tableEnv.createStatementSet();
        int insertCount = 0;
        for (Statement statement : statements) {
            try {
                List<Operation> operations = internal.getParser().parse(statement.sql());
                if (operations.size() != 1) {
                    throw new ScriptException(where(statement) + "expected one statement", null);
                }
                Operation operation = operations.get(0);
                if (operation instanceof SetOperation
                        || operation instanceof ResetOperation
                        || operation instanceof BeginStatementSetOperation
                        || operation instanceof EndStatementSetOperation) {
                    continue; // SETs are applied above; every INSERT joins the one statement set
                }
                if (operation instanceof ModifyOperation) {
                    inserts.addInsertSql(statement.sql());
                    insertCount++;
                } else if (operation instanceof QueryOperation) {
                    tableEnv.explainSql(statement.sql());
                } else if (operation instanceof CreateCatalogOperation) {
                    throw new ScriptException(
                            where(statement) + "CREATE CATALOG is not supported (a catalog may connect to its"
                                    + " database when created); declare TEMPORARY tables instead",
                            null);
                } else if (operation instanceof CreateOperation
                        || operation instanceof AlterOperation
                        || operation instanceof DropOperation
                        || operation instanceof UseOperation
                        || operation instanceof ShowOperation
                        || operation instanceof DescribeTableOperation
                        || operation instanceof ExplainOperation
                        || operation instanceof LoadModuleOperation
                        || operation instanceof UnloadModuleOperation) {
                    internal.executeInternal(operation);
                } else {
                    throw new ScriptException(
                            where(statement) + "unsupported statement (" + operation.getClass().getSimpleName() + ")",
                            null);
                }
            } catch (ScriptException e) {
                throw e;
            } catch (Exception | LinkageError e) { // LinkageError: a connector or format jar is missing
                throw new ScriptException(where(statement) + describe(e), e);
            }
        }
        if (insertCount == 0) {
            return null;
        }
        try {
            return inserts.explain();
        } catch (Exception | LinkageError e) {
            throw new ScriptException("planning the INSERTs: " + describe(e), e);
        }
    }

    private static String firstWord(Statement statement) {
        Matcher m = FIRST_WORD.matcher(statement.sql());
        return m.find() ? m.group(1).toUpperCase() : "";
    }

    private static String where(Statement statement) {
        String sql = statement.sql().replaceAll("\\s+", " ");
        if (sql.length() > 60) {
            sql = sql.substring(0, 57) + "...";
        }
        return "line " + statement.line() + " (" + sql + "): ";
    }

    /** The exception's message and, if it differs, its root cause's, on one line. */
    static String describe(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String message = oneLine(e.getMessage() != null ? e.getMessage() : e.getClass().getName());
        if (root != e) {
            String rootMessage = oneLine(root.getMessage() != null ? root.getMessage() : "");
            String rootText = root.getClass().getSimpleName() + (rootMessage.isEmpty() ? "" : ": " + rootMessage);
            if (!message.contains(rootMessage) || rootMessage.isEmpty()) {
                message += " | root cause: " + rootText;
            }
        }
        return message;
    }

    private static String oneLine(String text) {
        return text.replaceAll("\\s+", " ").trim();
    }
}

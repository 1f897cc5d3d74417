package dev.sluice.runner;

import dev.sluice.runner.ScriptPolicy.Checked;
import dev.sluice.runner.ScriptPolicy.Kind;
import java.util.List;
import org.apache.flink.api.common.JobID;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.graph.StreamGraph;
import org.apache.flink.table.api.EnvironmentSettings;
import org.apache.flink.table.api.bridge.java.StreamStatementSet;
import org.apache.flink.table.api.bridge.java.StreamTableEnvironment;
import org.apache.flink.table.api.internal.TableEnvironmentInternal;
import org.apache.flink.table.operations.Operation;
import org.apache.flink.table.operations.SinkModifyOperation;
import org.apache.flink.table.operations.ddl.CreateTableOperation;
import org.apache.flink.table.operations.ddl.CreateViewOperation;

/**
 * Runs an admitted script ({@link ScriptPolicy.Plan}) as one Flink job: a table environment in the
 * runtime mode of the script's settings, configured with them; the temporary tables and views
 * created; every INSERT in one statement set, translated into one stream graph, which is submitted
 * (the runner does not wait for the job). A script that asks for row counts (chaining off) gets
 * them with its operators chained where the graph allows it ({@link RowCounting}).
 *
 * <p>Each statement is parsed by Flink and its operation must be of the kind the policy found
 * (a temporary table or view for DDL, a sink modification for INSERT), a second check on what
 * Flink understood. Flink's exceptions leave only as {@link Redactor.Sanitized} copies.
 */
final class FlinkSubmitter {

    private FlinkSubmitter() {}

    static JobID submit(ScriptPolicy.Plan plan, Redactor redactor) throws RunnerException {
        return submitForClient(plan, redactor).getJobID();
    }

    /** Submits like {@link #submit} and returns the client of the job, to wait for its end. */
    static JobClient submitForClient(ScriptPolicy.Plan plan, Redactor redactor) throws RunnerException {
        EnvironmentSettings.Builder builder = EnvironmentSettings.newInstance();
        String mode = plan.runtimeMode();
        switch (mode) {
            case "batch" -> builder.inBatchMode();
            case "streaming" -> builder.inStreamingMode();
            default -> throw new RunnerException("'" + ScriptPolicy.RUNTIME_MODE + "' must be batch or streaming");
        }
        Configuration configuration = Configuration.fromMap(plan.settings());
        StreamExecutionEnvironment streamEnv;
        StreamTableEnvironment tableEnv;
        try {
            streamEnv = StreamExecutionEnvironment.getExecutionEnvironment(configuration);
            tableEnv = StreamTableEnvironment.create(streamEnv, builder.withConfiguration(configuration).build());
        } catch (Exception | LinkageError e) {
            throw new RunnerException("creating the TableEnvironment failed: " + redactor.rootMessage(e), redactor.sanitize(e));
        }
        TableEnvironmentInternal internal = (TableEnvironmentInternal) tableEnv;
        StreamStatementSet inserts = tableEnv.createStatementSet();
        for (Checked checked : plan.statements()) {
            String where = ScriptPolicy.where(checked.statement(), checked.number()) + checked.label() + ": ";
            try {
                List<Operation> operations = internal.getParser().parse(checked.statement().sql());
                if (operations.size() != 1) {
                    throw new RunnerException(where + "Flink parsed it as " + operations.size() + " operations, expected 1");
                }
                Operation operation = operations.get(0);
                if (checked.kind() == Kind.DDL) {
                    boolean temporaryTable = operation instanceof CreateTableOperation t && t.isTemporary();
                    boolean temporaryView = operation instanceof CreateViewOperation v && v.isTemporary();
                    if (!temporaryTable && !temporaryView) {
                        throw new RunnerException(where + "Flink parsed it as " + operation.getClass().getSimpleName()
                                + ", not as a temporary table or view; refused");
                    }
                    internal.executeInternal(operation);
                } else {
                    if (!(operation instanceof SinkModifyOperation)) {
                        throw new RunnerException(where + "Flink parsed it as " + operation.getClass().getSimpleName()
                                + ", not as an INSERT; refused");
                    }
                    inserts.addInsertSql(checked.statement().sql());
                }
            } catch (RunnerException e) {
                throw e;
            } catch (Exception | LinkageError e) { // LinkageError: a connector or format jar is missing
                throw new RunnerException(where + redactor.rootMessage(e), redactor.sanitize(e));
            }
        }
        try {
            inserts.attachAsDataStream();
            // As the table planner's executor does before it builds the graph.
            streamEnv.configure(tableEnv.getConfig());
            if (mode.equals("batch")) {
                streamEnv.getConfig().enableObjectReuse();
            }
            StreamGraph graph = streamEnv.getStreamGraph();
            if (!configuration.get(PipelineOptions.OPERATOR_CHAINING)) {
                RowCounting.apply(graph);
            }
            return streamEnv.executeAsync(graph);
        } catch (Exception | LinkageError e) {
            throw new RunnerException("planning or submitting the job failed: " + redactor.rootMessage(e), redactor.sanitize(e));
        }
    }
}

package dev.sluice.runner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.RuntimeExecutionMode;
import org.apache.flink.api.common.io.GenericInputFormat;
import org.apache.flink.api.common.io.NonParallelInput;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ExecutionOptions;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.runtime.executiongraph.AccessExecutionJobVertex;
import org.apache.flink.runtime.executiongraph.ArchivedExecutionGraph;
import org.apache.flink.runtime.executiongraph.IOMetrics;
import org.apache.flink.runtime.jobgraph.JobGraph;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.streaming.api.graph.StreamGraph;
import org.apache.flink.streaming.api.graph.StreamNode;
import org.apache.flink.table.runtime.operators.sink.SinkOperator;
import org.junit.jupiter.api.Test;

/** The counters RowCounting splices in, run on a real (in-process) Flink cluster. */
class RowCountingTest {

    /** A legacy source (an input format, as JDBC's scan) of the numbers 0..n-1. */
    static final class Numbers extends GenericInputFormat<Long> implements NonParallelInput {
        private static final long serialVersionUID = 1L;
        private final long count;
        private long next;

        Numbers(long count) {
            this.count = count;
        }

        @Override
        public boolean reachedEnd() {
            return next >= count;
        }

        @Override
        public Long nextRecord(Long reuse) {
            return next++;
        }
    }

    /** The script's settings: chaining off, as sluice's scripts ask for counts. */
    private static StreamExecutionEnvironment environment() {
        Configuration conf = new Configuration();
        conf.set(PipelineOptions.OPERATOR_CHAINING, false);
        conf.set(ExecutionOptions.RUNTIME_MODE, RuntimeExecutionMode.STREAMING);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(1);
        return env;
    }

    /** numbers -> a filter (drops every tenth) -> a legacy sink. */
    private static StreamGraph legacyGraph(long count) {
        StreamExecutionEnvironment env = environment();
        DataStream<Long> kept = env.createInput(new Numbers(count), Types.LONG).filter(n -> n % 10 != 0);
        kept.transform("Sink: dst[3]", Types.LONG, new SinkOperator<>());
        return env.getStreamGraph();
    }

    private static List<String> names(StreamGraph graph) {
        return graph.getStreamNodesSortedTopologicallyFromSources().stream()
                .map(StreamNode::getOperatorName)
                .collect(Collectors.toList());
    }

    /** Runs the graph; each vertex's name and (records in, records out), summed over subtasks. */
    private static Map<String, long[]> run(StreamGraph graph) throws Exception {
        JobGraph jobGraph = graph.getJobGraph();
        Configuration cluster = new Configuration();
        // Any free port on the loopback (a local stack may hold 8081).
        cluster.set(RestOptions.BIND_ADDRESS, "127.0.0.1");
        cluster.set(RestOptions.BIND_PORT, "0");
        MiniClusterConfiguration config = new MiniClusterConfiguration.Builder()
                .setConfiguration(cluster)
                .setNumTaskManagers(1)
                .setNumSlotsPerTaskManager(2)
                .build();
        try (MiniCluster flink = new MiniCluster(config)) {
            flink.start();
            JobID id = flink.submitJob(jobGraph).get().getJobID();
            assertTrue(flink.requestJobResult(id).get().isSuccess());
            ArchivedExecutionGraph done = flink.getArchivedExecutionGraph(id).get();
            return done.getAllVertices().values().stream()
                    .collect(Collectors.toMap(AccessExecutionJobVertex::getName, RowCountingTest::records));
        }
    }

    private static long[] records(AccessExecutionJobVertex vertex) {
        long in = 0;
        long out = 0;
        for (var subtask : vertex.getTaskVertices()) {
            IOMetrics metrics = subtask.getCurrentExecutionAttempt().getIOMetrics();
            in += metrics.getNumRecordsIn();
            out += metrics.getNumRecordsOut();
        }
        return new long[] {in, out};
    }

    @Test
    void countersAfterTheSourceAndBeforeTheSinkAndChainingOn() {
        StreamGraph graph = legacyGraph(10);
        assertTrue(RowCounting.apply(graph));
        assertEquals(
                List.of("Source: Custom Source", RowCounting.READ, "Filter", RowCounting.WRITTEN, "Sink: dst[3]"),
                names(graph));
        assertTrue(graph.isChainingEnabled());
    }

    @Test
    void oneChainedVertexCountsRowsReadAndWritten() throws Exception {
        Map<String, long[]> vertices = run(withCounters(legacyGraph(1_000)));
        assertEquals(1, vertices.size(), vertices.keySet().toString());
        var only = vertices.entrySet().iterator().next();
        assertTrue(only.getKey().contains(RowCounting.READ + " -> "), only.getKey());
        assertTrue(only.getKey().contains(RowCounting.WRITTEN + " -> "), only.getKey());
        assertEquals(1_000, only.getValue()[0], "rows read");
        assertEquals(900, only.getValue()[1], "rows written");
    }

    @Test
    void anEmptySourceCountsZero() throws Exception {
        Map<String, long[]> vertices = run(withCounters(legacyGraph(0)));
        long[] only = vertices.values().iterator().next();
        assertEquals(0, only[0]);
        assertEquals(0, only[1]);
    }

    @Test
    void withoutCountersTheChainedVertexCountsNothing() throws Exception {
        // Why counters: chained as is, the same job reports 0 and 0.
        StreamGraph chained = legacyGraph(1_000);
        chained.getJobConfiguration().set(PipelineOptions.OPERATOR_CHAINING, true);
        long[] only = run(chained).values().iterator().next();
        assertEquals(0, only[0]);
        assertEquals(0, only[1]);
    }

    @Test
    void aSinkWriterOrAFanOutIsLeftAsItIs() {
        StreamExecutionEnvironment env = environment();
        env.createInput(new Numbers(10), Types.LONG).sinkTo(new DiscardingSink<>());
        StreamGraph sinkWriter = env.getStreamGraph();
        List<String> before = names(sinkWriter);
        assertFalse(RowCounting.apply(sinkWriter));
        assertEquals(before, names(sinkWriter));
        assertFalse(sinkWriter.isChainingEnabled());

        StreamExecutionEnvironment fan = environment();
        DataStream<Long> numbers = fan.createInput(new Numbers(10), Types.LONG);
        numbers.transform("Sink: a[2]", Types.LONG, new SinkOperator<>());
        numbers.transform("Sink: b[3]", Types.LONG, new SinkOperator<>());
        assertFalse(RowCounting.apply(fan.getStreamGraph()));
    }

    private static StreamGraph withCounters(StreamGraph graph) {
        assertTrue(RowCounting.apply(graph));
        return graph;
    }
}

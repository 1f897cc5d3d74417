package dev.sluice.runner;

import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.SimpleCounter;
import org.apache.flink.runtime.metrics.groups.TaskIOMetricGroup;
import org.apache.flink.streaming.api.graph.StreamEdge;
import org.apache.flink.streaming.api.graph.StreamGraph;
import org.apache.flink.streaming.api.graph.StreamNode;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.ChainingStrategy;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.api.operators.SimpleOperatorFactory;
import org.apache.flink.streaming.runtime.partitioner.ForwardPartitioner;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

/**
 * Row counts with the operators chained.
 *
 * <p>The only counts Flink keeps after a job ends are its vertices' I/O metrics ({@code
 * read-records}, {@code write-records} of {@code GET /jobs/{id}}), and a JDBC source chained to a
 * JDBC sink in one vertex reports 0 and 0 (shared/flink/src/job_metrics.rs). sluice's scripts
 * therefore ask for {@code 'pipeline.operator-chaining.enabled' = 'false'}, which costs each row a
 * serialization and, in batch mode, a blocking exchange through the TaskManager's disk.
 *
 * <p>Where the job graph allows it, the runner counts instead: it puts a pass-through operator
 * after every source ({@value #READ}) and before every sink ({@value #WRITTEN}), and turns chaining
 * back on. Each counter adds its count to its task's {@code numRecordsIn} (rows read) or {@code
 * numRecordsOut} (rows written), so the chained vertex {@code Source: src -> Count rows read ->
 * Count rows written -> Sink: dst} reports both, and keeps them after the job ends. A counter that
 * Flink did not chain to its neighbour adds nothing: the network exchange next to it counts the
 * same rows.
 *
 * <p>Counting needs every source to be a legacy source (an input format, as JDBC's scan: a FLIP-27
 * source such as Kafka's counts what it reads into its task already) and every sink the table
 * planner's legacy sink operator (a sink function, as JDBC's: a sink writer such as Kafka's counts
 * what it writes already, and a file sink's last operator commits files, not rows), each with
 * exactly one edge that forwards (same parallelism, no repartitioning). Otherwise the graph is left
 * as it is, chaining off, counted by its vertices' network I/O as before.
 */
final class RowCounting {

    /** The name of the counter after a source (it appears in the vertex's name). */
    static final String READ = "Count rows read";
    /** The name of the counter before a sink. */
    static final String WRITTEN = "Count rows written";

    /** The table planner's operator around a sink function (flink-table-runtime). */
    private static final String LEGACY_SINK_OPERATOR = "org.apache.flink.table.runtime.operators.sink.SinkOperator";

    private RowCounting() {}

    /**
     * Adds the counters and turns chaining on; returns false, and changes nothing, when some source
     * or sink is not a legacy one or has not exactly one forwarding edge.
     */
    static boolean apply(StreamGraph graph) {
        List<StreamNode> sources = new ArrayList<>();
        List<StreamNode> sinks = new ArrayList<>();
        for (StreamNode node : graph.getStreamNodes()) {
            if (node.getInEdges().isEmpty()) {
                if (!node.getOperatorFactory().isLegacySource() || forwardingEdge(node.getOutEdges()).isEmpty()) {
                    return false;
                }
                sources.add(node);
            }
            if (node.getOutEdges().isEmpty()) {
                if (!isLegacySink(node) || forwardingEdge(node.getInEdges()).isEmpty()) {
                    return false;
                }
                sinks.add(node);
            }
        }
        if (sources.isEmpty() || sinks.isEmpty()) {
            return false;
        }
        int nextId = graph.getStreamNodes().stream().mapToInt(StreamNode::getId).max().orElse(0) + 1;
        // Sinks first: a source that feeds a sink directly then feeds its counter.
        for (StreamNode sink : sinks) {
            insert(graph, sink.getInEdges().get(0), nextId++, false);
        }
        for (StreamNode source : sources) {
            insert(graph, source.getOutEdges().get(0), nextId++, true);
        }
        graph.getJobConfiguration().set(PipelineOptions.OPERATOR_CHAINING, true);
        return true;
    }

    private static boolean isLegacySink(StreamNode node) {
        return node.getOperatorFactory() instanceof SimpleOperatorFactory<?> factory
                && factory.getOperator().getClass().getName().equals(LEGACY_SINK_OPERATOR);
    }

    private static Optional<StreamEdge> forwardingEdge(List<StreamEdge> edges) {
        if (edges.size() != 1 || !(edges.get(0).getPartitioner() instanceof ForwardPartitioner)) {
            return Optional.empty();
        }
        return Optional.of(edges.get(0));
    }

    /** Replaces {@code edge} (from -> to) by from -> counter -> to. */
    private static void insert(StreamGraph graph, StreamEdge edge, int id, boolean read) {
        StreamNode from = graph.getStreamNode(edge.getSourceId());
        StreamNode to = graph.getStreamNode(edge.getTargetId());
        SimpleOperatorFactory<Object> factory = SimpleOperatorFactory.of(new Counting(read));
        factory.setChainingStrategy(ChainingStrategy.ALWAYS);
        graph.addOperator(
                id,
                from.getSlotSharingGroup(),
                from.getCoLocationGroup(),
                factory,
                null,
                null,
                read ? READ : WRITTEN);
        StreamNode counter = graph.getStreamNode(id);
        graph.setSerializers(id, from.getTypeSerializerOut(), null, from.getTypeSerializerOut());
        graph.setParallelism(id, from.getParallelism(), parallelismConfigured(from));
        graph.setMaxParallelism(id, from.getMaxParallelism());
        counter.setBufferTimeout(from.getBufferTimeout());

        from.getOutEdges().remove(edge);
        to.getInEdges().remove(edge);
        StreamEdge in =
                new StreamEdge(
                        from,
                        counter,
                        0,
                        edge.getPartitioner(),
                        edge.getOutputTag(),
                        edge.getExchangeMode(),
                        0,
                        edge.getIntermediateDatasetIdToProduce());
        StreamEdge out =
                new StreamEdge(
                        counter,
                        to,
                        edge.getTypeNumber(),
                        new ForwardPartitioner<>(),
                        null,
                        edge.getExchangeMode(),
                        0,
                        null);
        from.addOutEdge(in);
        counter.addInEdge(in);
        counter.addOutEdge(out);
        to.addInEdge(out);
    }

    /**
     * Whether {@code node}'s parallelism was set rather than left to the adaptive batch scheduler;
     * the counter follows it so that the two stay one vertex. (Flink keeps the flag package-private.)
     */
    private static boolean parallelismConfigured(StreamNode node) {
        try {
            Method method = StreamNode.class.getDeclaredMethod("isParallelismConfigured");
            method.setAccessible(true);
            return (boolean) method.invoke(node);
        } catch (ReflectiveOperationException | RuntimeException e) {
            return true;
        }
    }

    /** Forwards every record and counts it into its task's I/O metrics. */
    static final class Counting extends AbstractStreamOperator<Object>
            implements OneInputStreamOperator<Object, Object> {

        private static final long serialVersionUID = 1L;

        private final boolean read;
        private transient Counter rows;

        Counting(boolean read) {
            this.read = read;
        }

        @Override
        public void open() throws Exception {
            super.open();
            rows = new SimpleCounter();
            TaskIOMetricGroup task = getContainingTask().getEnvironment().getMetricGroup().getIOMetricGroup();
            // Not chained to the source (or the sink): the network in front of (or behind) this
            // task counts the same rows already.
            if (read && !getOperatorConfig().isChainStart()) {
                task.reuseRecordsInputCounter(rows);
            } else if (!read && !getOperatorConfig().isChainEnd()) {
                task.reuseRecordsOutputCounter(rows);
            }
        }

        @Override
        public void processElement(StreamRecord<Object> element) {
            rows.inc();
            output.collect(element);
        }
    }
}

//! Job state and row counts from `GET /jobs/{id}` (and `/jobs/{id}/plan`).
//!
//! # Where the row counts come from (checked on Flink 2.2.1)
//!
//! The only counts that outlive a job are the vertices' I/O metrics in
//! `GET /jobs/{id}` (`vertices[].metrics`): `read-records` is what a vertex's
//! tasks took in (from the network, or what a FLIP-27 source read),
//! `write-records` what they sent to the network. Operator metrics
//! (`/jobs/{id}/vertices/{vid}/subtasks/metrics?get=Sink__dst[3].numRecordsIn`)
//! exist only while the job runs: the metric store is fetched every
//! `metrics.fetcher.update-interval` (10 s), keeps a stale snapshot for a
//! while after the job ends (86,900 of 250,000 rows in one test) and then
//! answers `[]`. They are not used.
//!
//! Which vertices are sources and sinks comes from the job graph (`plan.nodes`,
//! embedded in `GET /jobs/{id}` since Flink 2.0, else `GET /jobs/{id}/plan`):
//! a node without inputs is a source, a node no other node consumes is a sink.
//!
//! - `rows_read`: per source vertex, its `read-records` if the source counted
//!   what it read (FLIP-27 sources such as `filesystem` or Kafka do), else its
//!   `write-records` (legacy sources such as JDBC's input format or
//!   `datagen` count 0 read; `write-records` is then what the vertex emitted,
//!   after any chained filter; it is counted once per consuming edge, so a
//!   source feeding two sinks gives `None`).
//! - `rows_written`: per sink vertex, its `read-records`: what reached the
//!   sink over the network.
//! - A job whose source and sink are chained into one vertex (a JDBC ->
//!   JDBC job left to Flink's defaults: `Source: src -> Sink: dst`)
//!   exchanges nothing over the network: Flink reports 0/0 for it.
//!   `rows_written` is then unknown (`None`), and `rows_read` is known only
//!   when the source counted it (`read-records` > 0).
//! - sluice's scripts ask for counts (`pipeline.operator-chaining.enabled:
//!   false`, shared/flinksql). The runner (`RowCounting.java`) answers with
//!   a counting operator after each source (`Count rows read`) and before
//!   each sink (`Count rows written`) and chains everything again: each
//!   counter adds to its task's records in (read) or out (written), so the
//!   vertex `Source: src -> Count rows read -> Count rows written -> Sink:
//!   dst` reports exactly what was read and written, 0 included, and keeps
//!   it after the job ended. A vertex whose name has such a counter is
//!   counted by it.
//! - Where the runner could not count (a graph whose sources or sinks do
//!   not forward to one operator), and on the SQL Gateway target (no
//!   runner), chaining stays off: every operator is a vertex of its own,
//!   the source's vertex counts what it sent and the sink's what it took
//!   (checked on Flink 2.2.1: 1,000,000 rows PostgreSQL -> MariaDB,
//!   `Source: src` wrote 1,000,000, `Sink: dst` read 1,000,000). What each
//!   way costs: BENCHMARKS.md, "Row counts".
//!
//! A count is `None` whenever any part of it is unknown: a vertex not yet
//! scheduled (batch jobs create vertices as they go), metrics not yet
//! complete (`*-complete: false`), no plan.

use serde::Deserialize;
use sluice_domain::ports::{FlinkJobState, FlinkTableRows};

/// The parts of `GET /jobs/{id}` this adapter reads.
#[derive(Debug, Deserialize)]
pub(crate) struct JobDetails {
    pub state: String,
    #[serde(default)]
    pub vertices: Vec<Vertex>,
    /// The job graph; Flink 2.x embeds it here.
    pub plan: Option<Plan>,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Vertex {
    pub id: String,
    /// `Source: src_3[12]`, `Sink: dst_3[14]`, `Calc[13]`: the operator and
    /// the table it reads or writes.
    #[serde(default)]
    pub name: String,
    pub metrics: Option<IoMetrics>,
}

/// A vertex's I/O metrics, summed over its subtasks.
#[derive(Debug, Default, Clone, Deserialize)]
pub(crate) struct IoMetrics {
    #[serde(rename = "read-records")]
    pub read_records: Option<u64>,
    #[serde(rename = "read-records-complete")]
    pub read_records_complete: Option<bool>,
    #[serde(rename = "write-records")]
    pub write_records: Option<u64>,
    #[serde(rename = "write-records-complete")]
    pub write_records_complete: Option<bool>,
}

impl IoMetrics {
    fn read(&self) -> Option<u64> {
        self.read_records
            .filter(|_| self.read_records_complete != Some(false))
    }

    fn written(&self) -> Option<u64> {
        self.write_records
            .filter(|_| self.write_records_complete != Some(false))
    }
}

/// `GET /jobs/{id}/plan`.
#[derive(Debug, Deserialize)]
pub(crate) struct PlanAnswer {
    pub plan: Plan,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Plan {
    #[serde(default)]
    pub nodes: Vec<PlanNode>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct PlanNode {
    pub id: String,
    #[serde(default)]
    pub inputs: Vec<PlanInput>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct PlanInput {
    pub id: String,
}

/// Flink's job status names onto the port's states. Anything not terminal
/// (INITIALIZING, CREATED, RUNNING, FAILING, CANCELLING, RESTARTING,
/// SUSPENDED, RECONCILING, and names a later Flink may add) is in progress.
pub(crate) fn job_state(flink_state: &str) -> FlinkJobState {
    match flink_state {
        "FINISHED" => FlinkJobState::Finished,
        "FAILED" => FlinkJobState::Failed,
        "CANCELED" => FlinkJobState::Canceled,
        _ => FlinkJobState::InProgress,
    }
}

/// Rows read and written (see the module docs for the rules).
pub(crate) fn row_counts(vertices: &[Vertex], plan: &Plan) -> (Option<u64>, Option<u64>) {
    let mut read = Some(0u64);
    let mut written = Some(0u64);
    if plan.nodes.is_empty() {
        return (None, None);
    }
    for counted in node_counts(vertices, plan) {
        if let Some(this) = counted.read {
            read = add(read, this);
        }
        if let Some(this) = counted.written {
            written = add(written, this);
        }
    }
    (read, written)
}

/// A multi-table job's rows per table: its tables are `src_<n>` (or
/// `src_<n>_fields` under a renaming view) and `dst_<n>` (the compiler's
/// `table_name`), so a source vertex `Source: src_3[12]` counts table 3's
/// rows read and `Sink: dst_3[14]` its rows written. Empty when no vertex
/// is named so (a single-table job's `src` and `dst`).
pub(crate) fn table_rows(vertices: &[Vertex], plan: &Plan) -> Vec<FlinkTableRows> {
    let mut tables: std::collections::BTreeMap<usize, FlinkTableRows> = Default::default();
    for counted in node_counts(vertices, plan) {
        let Some(name) = vertices
            .iter()
            .find(|v| v.id == counted.id)
            .map(|v| &v.name)
        else {
            continue;
        };
        let entry = |index| FlinkTableRows {
            index,
            rows_read: Some(0),
            rows_written: Some(0),
        };
        if let (Some(this), Some(index)) = (counted.read, table_index(name, "Source: src_")) {
            let t = tables.entry(index).or_insert_with(|| entry(index));
            t.rows_read = add(t.rows_read, this);
        }
        if let (Some(this), Some(index)) = (counted.written, table_index(name, "Sink: dst_")) {
            let t = tables.entry(index).or_insert_with(|| entry(index));
            t.rows_written = add(t.rows_written, this);
        }
    }
    tables.into_values().collect()
}

/// `n` of a vertex with an operator named `<prefix><n>[…]` or
/// `<prefix><n>_fields[…]` (a chained vertex's name joins its operators'
/// names with ` -> `).
fn table_index(vertex_name: &str, prefix: &str) -> Option<usize> {
    vertex_name
        .split(" -> ")
        .find_map(|operator| operator_table_index(operator, prefix))
}

fn operator_table_index(operator: &str, prefix: &str) -> Option<usize> {
    let rest = operator.strip_prefix(prefix)?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let after = &rest[digits.len()..];
    (after.starts_with('[') || after.starts_with("_fields["))
        .then(|| digits.parse().ok())
        .flatten()
}

/// The runner's counting operators (`RowCounting.java`) a vertex chains.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Counters {
    read: bool,
    written: bool,
}

impl Counters {
    /// From a vertex name: its operators' names joined by ` -> `.
    fn of(vertex_name: &str) -> Self {
        let mut out = Self::default();
        for operator in vertex_name.split(" -> ") {
            out.read |= operator.starts_with("Count rows read");
            out.written |= operator.starts_with("Count rows written");
        }
        out
    }
}

/// What one node of the plan counts: rows read (`Some` for a source
/// vertex, holding `None` when unknown) and rows written (for a sink).
struct NodeCount<'a> {
    id: &'a str,
    read: Option<Option<u64>>,
    written: Option<Option<u64>>,
}

fn node_counts<'a>(vertices: &'a [Vertex], plan: &'a Plan) -> Vec<NodeCount<'a>> {
    let edges_from = |id: &str| {
        plan.nodes
            .iter()
            .flat_map(|n| &n.inputs)
            .filter(|i| i.id == id)
            .count()
    };

    let mut out = Vec::with_capacity(plan.nodes.len());
    for node in &plan.nodes {
        let mut counted = NodeCount {
            id: &node.id,
            read: None,
            written: None,
        };
        let is_source = node.inputs.is_empty();
        let consumers = edges_from(&node.id);
        let is_sink = consumers == 0;
        let vertex = vertices.iter().find(|v| v.id == node.id);
        let m = vertex.and_then(|v| v.metrics.as_ref());
        let counters = vertex.map_or_else(Counters::default, |v| Counters::of(&v.name));
        if counters.read {
            counted.read = Some(m.and_then(IoMetrics::read));
        }
        if counters.written {
            counted.written = Some(m.and_then(IoMetrics::written));
        }
        if counters.read || counters.written {
            out.push(counted);
            continue;
        }
        if is_source {
            let source_read = m.and_then(IoMetrics::read).filter(|&n| n > 0);
            let this = match (source_read, is_sink) {
                (Some(n), _) => Some(n),
                // Chained with its sink: nothing crossed the network.
                (None, true) => None,
                (None, false) if consumers == 1 => m.and_then(IoMetrics::written),
                // Emitted once per consumer: not a count of rows read.
                (None, false) => None,
            };
            counted.read = Some(this);
        }
        if is_sink {
            let this = if is_source {
                None
            } else {
                m.and_then(IoMetrics::read)
            };
            counted.written = Some(this);
        }
        out.push(counted);
    }
    out
}

fn add(total: Option<u64>, part: Option<u64>) -> Option<u64> {
    total?.checked_add(part?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn details(name: &str) -> JobDetails {
        let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
        let body = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        serde_json::from_slice(&body).unwrap()
    }

    /// A vertex whose complete I/O metrics are `read` and `written`.
    fn vertex(id: &str, name: &str, read: u64, written: u64) -> Vertex {
        Vertex {
            id: id.into(),
            name: name.into(),
            metrics: Some(IoMetrics {
                read_records: Some(read),
                read_records_complete: Some(true),
                write_records: Some(written),
                write_records_complete: Some(true),
            }),
        }
    }

    fn rows(name: &str) -> (Option<u64>, Option<u64>) {
        let d = details(name);
        row_counts(&d.vertices, d.plan.as_ref().unwrap())
    }

    #[test]
    fn a_source_vertex_and_a_sink_vertex_give_both_counts() {
        // datagen (1000 rows) -> blackhole, batch: two vertices.
        assert_eq!(
            rows("job_batch_source_and_sink_vertices.json"),
            (Some(1000), Some(1000))
        );
    }

    #[test]
    fn two_sinks_add_up_and_a_fanned_out_source_is_unknown() {
        // datagen (1000 rows) -> blackhole (id <= 300) and -> blackhole (all):
        // the legacy source counts nothing read; its vertex emitted 300 + 1000
        // (write-records 1300), which is not the rows it read.
        assert_eq!(rows("job_batch_two_sinks.json"), (None, Some(1300)));
    }

    #[test]
    fn a_chained_jdbc_job_has_no_counts() {
        // JDBC -> JDBC, 250,000 rows moved: one vertex, 0 read, 0 written.
        assert_eq!(rows("job_jdbc_chained_single_vertex.json"), (None, None));
    }

    #[test]
    fn an_unchained_jdbc_job_has_both_counts() {
        // The same JDBC -> JDBC job with chaining off (as sluice's scripts
        // run): 1,000,000 rows, a source vertex and a sink vertex.
        assert_eq!(
            rows("job_jdbc_unchained.json"),
            (Some(1_000_000), Some(1_000_000))
        );
    }

    #[test]
    fn a_chained_job_whose_source_counts_reads_has_rows_read() {
        // filesystem csv (1000 lines) -> filter id <= 700 -> blackhole, one vertex.
        assert_eq!(
            rows("job_file_chained_single_vertex.json"),
            (Some(1000), None)
        );
    }

    #[test]
    fn the_plan_endpoint_parses_to_the_same_plan() {
        let path = format!(
            "{}/tests/data/plan_batch_source_and_sink_vertices.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let answer: PlanAnswer = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        let d = details("job_batch_source_and_sink_vertices.json");
        assert_eq!(
            row_counts(&d.vertices, &answer.plan),
            (Some(1000), Some(1000))
        );
    }

    #[test]
    fn unscheduled_vertices_and_incomplete_metrics_are_unknown() {
        let plan = Plan {
            nodes: vec![
                PlanNode {
                    id: "a".into(),
                    inputs: vec![],
                },
                PlanNode {
                    id: "b".into(),
                    inputs: vec![PlanInput { id: "a".into() }],
                },
            ],
        };
        let source = Vertex {
            id: "a".into(),
            name: String::new(),
            metrics: Some(IoMetrics {
                read_records: Some(0),
                read_records_complete: Some(true),
                write_records: Some(5),
                write_records_complete: Some(true),
            }),
        };
        // The sink vertex is not scheduled yet.
        assert_eq!(
            row_counts(std::slice::from_ref(&source), &plan),
            (Some(5), None)
        );
        let sink = Vertex {
            id: "b".into(),
            name: String::new(),
            metrics: Some(IoMetrics {
                read_records: Some(4),
                read_records_complete: Some(false),
                ..IoMetrics::default()
            }),
        };
        assert_eq!(row_counts(&[source, sink], &plan), (Some(5), None));
        assert_eq!(row_counts(&[], &Plan { nodes: vec![] }), (None, None));
    }

    #[test]
    fn a_multi_table_jobs_rows_are_attributed_to_each_table_by_vertex_name() {
        // Table 1 read through a renaming view (src_1_fields) and a filter
        // vertex; table 2 straight; table 12 empty.
        let node = |id: &str, inputs: &[&str]| PlanNode {
            id: id.into(),
            inputs: inputs
                .iter()
                .map(|i| PlanInput { id: (*i).into() })
                .collect(),
        };
        let plan = Plan {
            nodes: vec![
                node("s1", &[]),
                node("c1", &["s1"]),
                node("k1", &["c1"]),
                node("s2", &[]),
                node("k2", &["s2"]),
                node("s12", &[]),
                node("k12", &["s12"]),
            ],
        };
        let vertices = [
            vertex("s1", "Source: src_1_fields[1]", 0, 300),
            vertex("c1", "Calc[2]", 300, 300),
            vertex("k1", "Sink: dst_1[3]", 300, 0),
            vertex("s2", "Source: src_2[4]", 0, 200_000),
            vertex("k2", "Sink: dst_2[5]", 200_000, 0),
            vertex("s12", "Source: src_12[6]", 0, 0),
            vertex("k12", "Sink: dst_12[7]", 0, 0),
        ];
        let rows = |index, n| FlinkTableRows {
            index,
            rows_read: Some(n),
            rows_written: Some(n),
        };
        assert_eq!(
            table_rows(&vertices, &plan),
            [rows(1, 300), rows(2, 200_000), rows(12, 0)]
        );
        assert_eq!(row_counts(&vertices, &plan), (Some(200_300), Some(200_300)));
        // A single-table job's vertices name no table number.
        assert_eq!(
            table_rows(
                &details("job_jdbc_unchained.json").vertices,
                details("job_jdbc_unchained.json").plan.as_ref().unwrap()
            ),
            []
        );
        assert_eq!(table_index("Source: src_1x[3]", "Source: src_"), None);
    }

    #[test]
    fn the_runners_counted_chained_jobs_have_both_counts() {
        // As Flink 2.2.1 reported them (runs of the stack tests): one JDBC ->
        // JDBC table of 20,000 rows, `Source: src -> Count rows read ->
        // Count rows written -> Sink: dst` in one vertex ...
        assert_eq!(
            rows("job_jdbc_counted_chained.json"),
            (Some(20_000), Some(20_000))
        );
        // ... and 30 tables MariaDB -> PostgreSQL, one vertex each, table 2
        // empty, 208,590 rows in all.
        let d = details("job_jdbc_counted_chained_30_tables.json");
        let plan = d.plan.as_ref().unwrap();
        assert_eq!(d.vertices.len(), 30);
        assert_eq!(
            row_counts(&d.vertices, plan),
            (Some(208_590), Some(208_590))
        );
        let tables = table_rows(&d.vertices, plan);
        assert_eq!(tables.len(), 30);
        let table = |index: usize| tables.iter().find(|t| t.index == index).unwrap();
        assert_eq!(
            (table(1).rows_read, table(1).rows_written),
            (Some(200_000), Some(200_000))
        );
        assert_eq!(
            (table(2).rows_read, table(2).rows_written),
            (Some(0), Some(0))
        );
        assert_eq!(table(30).rows_written, Some(250));
    }

    #[test]
    fn a_vertex_with_the_runners_counters_is_counted_by_them_zero_included() {
        // Chained by the runner (RowCounting.java): one vertex per table.
        let node = |id: &str| PlanNode {
            id: id.into(),
            inputs: vec![],
        };
        let plan = Plan {
            nodes: vec![node("t3"), node("t4")],
        };
        let vertices = [
            vertex(
                "t3",
                "Source: src_3[1] -> Count rows read -> Calc[2] -> Count rows written -> Sink: dst_3[3]",
                1_000,
                990,
            ),
            vertex(
                "t4",
                "Source: src_4[4] -> Count rows read -> Count rows written -> Sink: dst_4[5]",
                0,
                0,
            ),
        ];
        assert_eq!(row_counts(&vertices, &plan), (Some(1_000), Some(990)));
        assert_eq!(
            table_rows(&vertices, &plan),
            [
                FlinkTableRows {
                    index: 3,
                    rows_read: Some(1_000),
                    rows_written: Some(990),
                },
                FlinkTableRows {
                    index: 4,
                    rows_read: Some(0),
                    rows_written: Some(0),
                },
            ]
        );
        // Metrics still incomplete: unknown, not 0.
        let mut running = vertices[0].clone();
        running.metrics.as_mut().unwrap().write_records_complete = Some(false);
        assert_eq!(
            row_counts(
                &[running],
                &Plan {
                    nodes: vec![node("t3")]
                }
            ),
            (Some(1_000), None)
        );
        // Without the counters, such a vertex reports 0 / 0: unknown.
        let plain = vertex("t3", "Source: src_3[1] -> Calc[2] -> Sink: dst_3[3]", 0, 0);
        assert_eq!(
            row_counts(
                &[plain],
                &Plan {
                    nodes: vec![node("t3")]
                }
            ),
            (None, None)
        );
    }

    #[test]
    fn states_map_onto_the_port() {
        assert_eq!(job_state("FINISHED"), FlinkJobState::Finished);
        assert_eq!(job_state("FAILED"), FlinkJobState::Failed);
        assert_eq!(job_state("CANCELED"), FlinkJobState::Canceled);
        for s in [
            "INITIALIZING",
            "CREATED",
            "RUNNING",
            "FAILING",
            "CANCELLING",
            "RESTARTING",
            "SUSPENDED",
            "RECONCILING",
            "SOMETHING_NEW",
        ] {
            assert_eq!(job_state(s), FlinkJobState::InProgress, "{s}");
        }
    }
}

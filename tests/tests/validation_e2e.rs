//! `validate: count` end to end (issue #15, README "Validation"), from one
//! PostgreSQL table into another on the local stack, over incremental
//! windows whose timestamps carry microseconds:
//! - a run whose target holds every row of its window succeeds and records
//!   `validation {source_rows, target_rows, ok: true}`;
//! - when the target loses rows behind the job's back (a trigger discards
//!   every tenth row written to it), the run's Flink job succeeds but the
//!   run fails `validation_mismatch` with both counts, and the watermark
//!   stays: the next fire reads the same window again;
//! - once the target keeps its rows again, that next run restores them, its
//!   counts agree and every row is equal in both tables.
//!
//! Run with `make test`.

use serde_json::{Value, json};
use sluice_tests::{
    Api, create_job, db, fresh_tenant, invoke, reconcile_until, run_ended,
    schedule_for_hand_delivery, scheduler_event,
};

/// Fires the job at `at` and returns the run once it has ended.
async fn fire(api: &Api, tenant: &str, job_id: &str, at: &str) -> Value {
    let delivered = invoke("trigger", &scheduler_event(tenant, job_id, at)).await;
    assert_eq!(delivered["outcome"], "submitted", "{delivered}");
    let run_id = delivered["run_id"].as_str().unwrap();
    reconcile_until(api, tenant, run_id, 240, run_ended).await
}

fn count(sql: &str) -> u64 {
    db::psql(sql).trim().parse().unwrap()
}

/// Every column of every row, in key order, as one text.
fn rows(table: &str) -> String {
    db::psql(&format!(
        "SELECT id, name, amount, updated_at FROM {table} ORDER BY id"
    ))
}

#[tokio::test]
#[ignore = "needs the local stack: run `make test`"]
async fn a_target_that_lost_rows_fails_the_run_and_keeps_the_watermark() {
    let api = Api::new();
    let tenant = fresh_tenant("validate");
    let suffix = &tenant[tenant.len() - 8..];
    let (source, target) = (format!("val_src_{suffix}"), format!("val_dst_{suffix}"));
    // 300 rows, one every 7.123456 s from midnight: windows of 20 minutes
    // end between rows, and a bound that lost its microseconds would move
    // rows from one window to the next.
    db::psql(&format!(
        "CREATE TABLE {source} (id BIGINT PRIMARY KEY, name TEXT, amount NUMERIC(12,4),
                                updated_at TIMESTAMP(6) NOT NULL);
         INSERT INTO {source}
         SELECT g, CASE WHEN g % 3 = 0 THEN 'ü 😀 ' || g WHEN g % 3 = 1 THEN '' END,
                g * 1.0001, TIMESTAMP '2026-05-01 00:00' + g * INTERVAL '7.123456 seconds'
         FROM generate_series(1, 300) g;"
    ));
    let pg = api.register_source(&tenant, db::postgres_source()).await;
    let job_id = create_job(
        &api,
        &tenant,
        &json!({
            "name": "validated copy",
            "source": {"source_id": pg, "object": format!("public.{source}"),
                       "incremental": {"column": "updated_at", "start": "2026-05-01T00:00:00Z"}},
            "target": {"source_id": pg, "object": format!("public.{target}"),
                       "write_mode": "upsert", "primary_key": ["id"], "create": "if_missing"},
            "options": {"mode": "batch", "validate": "count"}
        }),
    )
    .await;
    let stored = api.get(&format!("/jobs/{job_id}"), &tenant).await.json();
    assert_eq!(stored["options"]["validate"], "count", "{stored}");
    schedule_for_hand_delivery(&api, &tenant, &job_id, json!({})).await;

    // [00:00, 00:20): rows 1 to 168.
    let first = fire(&api, &tenant, &job_id, "2026-05-01T00:20:00Z").await;
    assert_eq!(first["state"], "succeeded", "{first}");
    assert_eq!(
        first["validation"],
        json!({"source_rows": 168, "target_rows": 168, "ok": true})
    );
    assert_eq!(count(&format!("SELECT count(*) FROM {target}")), 168);

    // Behind the job's back, the target now drops every tenth row written.
    db::psql(&format!(
        "CREATE FUNCTION {target}_lose() RETURNS trigger LANGUAGE plpgsql AS
           $$ BEGIN IF NEW.id % 10 = 0 THEN RETURN NULL; END IF; RETURN NEW; END $$;
         CREATE TRIGGER lose BEFORE INSERT ON {target}
           FOR EACH ROW EXECUTE FUNCTION {target}_lose();"
    ));
    // [00:20, 00:40): rows 169 to 300, of which 14 are lost.
    let second = fire(&api, &tenant, &job_id, "2026-05-01T00:40:00Z").await;
    assert_eq!(second["state"], "failed", "{second}");
    assert_eq!(second["error"]["code"], "validation_mismatch", "{second}");
    assert_eq!(second["error"]["retryable"], false);
    assert_eq!(
        second["error"]["message"],
        "the target holds 118 rows of the run's window, the source 132"
    );
    assert_eq!(
        second["validation"],
        json!({"source_rows": 132, "target_rows": 118, "ok": false})
    );
    assert_eq!(
        second["rows_written"], 132,
        "Flink wrote them all: {second}"
    );
    assert_eq!(second["window"]["from"], "2026-05-01T00:20:00Z");

    db::psql(&format!("DROP TRIGGER lose ON {target}"));
    // The watermark stayed at 00:20: the next window starts there again,
    // and the lost rows are written this time.
    let third = fire(&api, &tenant, &job_id, "2026-05-01T01:00:00Z").await;
    assert_eq!(third["state"], "succeeded", "{third}");
    assert_eq!(third["window"]["from"], "2026-05-01T00:20:00Z", "{third}");
    assert_eq!(
        third["validation"],
        json!({"source_rows": 132, "target_rows": 132, "ok": true})
    );
    assert_eq!(rows(&target), rows(&source));
}

//! The events the functions are invoked with: API Gateway HTTP API (v2)
//! requests carrying the JWT authorizer's claims, and scheduler fires.

use serde_json::{Value, json};

/// The claim holding the tenant (`SLUICE_TENANT_CLAIM` of the HTTP functions).
pub const TENANT_CLAIM: &str = "sub";

/// An HTTP API request as API Gateway hands it to the function, from a
/// caller whose verified JWT carries `tenant`.
pub fn http(method: &str, path: &str, query: &str, tenant: &str, body: Option<&Value>) -> Value {
    let mut headers = json!({"accept": "application/json", "user-agent": "sluice-bench"});
    if body.is_some() {
        headers["content-type"] = json!("application/json");
    }
    json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "bench",
            "domainName": "bench.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "bench",
            "requestId": "bench",
            "routeKey": "$default",
            "stage": "$default",
            "time": "01/Jun/2026:00:00:00 +0000",
            "timeEpoch": 1_780_272_000_000u64,
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1",
                     "sourceIp": "127.0.0.1", "userAgent": "sluice-bench"},
            "authorizer": {"jwt": {"claims": {TENANT_CLAIM: tenant}, "scopes": []}}
        },
        "body": body.map(Value::to_string),
        "isBase64Encoded": false
    })
}

/// A schedule fire as EventBridge Scheduler delivers it (ids only).
pub fn fire(tenant: &str, job_id: &str, scheduled_time: &str) -> Value {
    json!({
        "tenant": tenant,
        "job_id": job_id,
        "scheduled_time": scheduled_time,
        "schedule_arn": "arn:aws:scheduler:us-east-1:123456789012:schedule/default/sluice-bench",
        "attempt": "1"
    })
}

/// The `n`-th of a series of distinct scheduled times (one a minute).
pub fn scheduled_time(series: u32, n: u32) -> String {
    let base = chrono::DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z").unwrap();
    let at =
        base + chrono::Duration::days(i64::from(series)) + chrono::Duration::minutes(i64::from(n));
    at.to_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The body of an HTTP function's answer (API Gateway v2 response shape).
pub fn http_answer(answer: &Value) -> anyhow::Result<(u16, Value)> {
    let status = answer["statusCode"]
        .as_u64()
        .ok_or_else(|| anyhow::anyhow!("not an HTTP answer: {answer}"))? as u16;
    let raw = answer["body"].as_str().unwrap_or_default();
    let text = if answer["isBase64Encoded"] == true {
        use base64::Engine as _;
        let bytes = base64::engine::general_purpose::STANDARD.decode(raw)?;
        String::from_utf8(bytes)?
    } else {
        raw.to_owned()
    };
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Ok((status, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheduled_times_are_distinct_and_rfc3339() {
        assert_eq!(scheduled_time(0, 0), "2026-01-01T00:00:00Z");
        assert_eq!(scheduled_time(1, 61), "2026-01-02T01:01:00Z");
    }

    #[test]
    fn http_events_carry_the_tenant_claim_and_the_body_as_text() {
        let e = http("POST", "/jobs", "", "t1", Some(&json!({"a": 1})));
        assert_eq!(
            e["requestContext"]["authorizer"]["jwt"]["claims"]["sub"],
            "t1"
        );
        assert_eq!(e["body"], "{\"a\":1}");
        assert_eq!(http("GET", "/jobs", "", "t1", None)["body"], Value::Null);
    }
}

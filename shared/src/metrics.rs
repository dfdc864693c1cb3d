//! Metrics in CloudWatch Embedded Metric Format: one JSON line per object on stdout, which
//! Lambda ships to CloudWatch Logs and CloudWatch turns into metrics (no API calls, no agent).
//! A leaf: reports that carry metrics (ingest objects, commits) emit themselves through [`emit`].
//!
//! Hand-written rather than a crate: the format is one small JSON document, and the EMF crates
//! found (`metrics_cloudwatch_embedded`) bring the `metrics` facade and a global recorder for
//! what is here a single `println!`.

use serde_json::{json, Map, Value};

/// Prints one EMF document (dimensions, metrics) stamped now.
pub fn emit(dimensions: &[(&str, &str)], metrics: &[(&str, &str, f64)]) {
    println!(
        "{}",
        emf_line(dimensions, metrics, chrono::Utc::now().timestamp_millis())
    );
}

/// CloudWatch namespace of Floe's metrics.
pub const NAMESPACE: &str = "Floe";

/// One EMF document: dimensions (name → value) and metrics (name, unit, value). Besides the full
/// dimension set, a document with a `Function` dimension is also rolled up by `Function` alone,
/// so one plain CloudWatch alarm per function covers every table (alarms cannot use SEARCH).
pub fn emf_line(
    dimensions: &[(&str, &str)],
    metrics: &[(&str, &str, f64)],
    timestamp_ms: i64,
) -> String {
    let mut doc = Map::new();
    doc.insert(
        "_aws".into(),
        json!({
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": dimension_sets(dimensions),
                "Metrics": metrics.iter().map(|(n, u, _)| json!({"Name": n, "Unit": u})).collect::<Vec<_>>(),
            }]
        }),
    );
    for (k, v) in dimensions {
        doc.insert((*k).into(), Value::String((*v).into()));
    }
    for (n, _, v) in metrics {
        doc.insert((*n).into(), json!(v));
    }
    Value::Object(doc).to_string()
}

/// The full dimension set, plus `["Function"]` when there is more than that one dimension.
fn dimension_sets<'a>(dimensions: &[(&'a str, &str)]) -> Vec<Vec<&'a str>> {
    let full: Vec<&str> = dimensions.iter().map(|(k, _)| *k).collect();
    let rollup = full.len() > 1 && full.contains(&"Function");
    let mut sets = vec![full];
    if rollup {
        sets.push(vec!["Function"]);
    }
    sets
}

/// Writes a table check's result (`CheckFailed` is 1 for a failed check: alarm on it).
pub fn emit_check(table: &str, check: &str, passed: bool, duration_ms: u64) {
    println!(
        "{}",
        emf_line(
            &[("Function", "validate"), ("Table", table), ("Check", check)],
            &[
                ("CheckFailed", "Count", if passed { 0.0 } else { 1.0 }),
                ("CheckDurationMs", "Milliseconds", duration_ms as f64)
            ],
            chrono::Utc::now().timestamp_millis(),
        )
    );
}

/// Writes one maintenance action's figures (`action` is `rewrite_data_files`,
/// `expire_snapshots` or `remove_orphan_files`; `MaintenanceFailed` is 1 when it failed).
pub fn emit_maintenance(table: &str, action: &str, figures: &[(&str, &str, f64)], failed: bool) {
    let mut metrics = figures.to_vec();
    metrics.push(("MaintenanceFailed", "Count", if failed { 1.0 } else { 0.0 }));
    println!(
        "{}",
        emf_line(
            &[
                ("Function", "compact"),
                ("Table", table),
                ("Action", action)
            ],
            &metrics,
            chrono::Utc::now().timestamp_millis(),
        )
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emf_document_declares_every_metric_and_dimension() {
        let line = emf_line(
            &[("Table", "demo.orders")],
            &[("RowsRead", "Count", 3.0)],
            1_000,
        );
        let v: Value = serde_json::from_str(&line).unwrap();
        let m = &v["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(m["Namespace"], "Floe");
        assert_eq!(m["Dimensions"][0][0], "Table");
        assert_eq!(m["Metrics"][0]["Name"], "RowsRead");
        assert_eq!(v["RowsRead"], 3.0);
        assert_eq!(v["Table"], "demo.orders");
        assert_eq!(v["_aws"]["Timestamp"], 1_000);
        assert_eq!(m["Dimensions"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn documents_with_a_function_are_also_rolled_up_by_function() {
        let line = emf_line(
            &[("Function", "ingest"), ("Table", "demo.orders")],
            &[("ObjectsFailed", "Count", 1.0)],
            1_000,
        );
        let v: Value = serde_json::from_str(&line).unwrap();
        let dims = &v["_aws"]["CloudWatchMetrics"][0]["Dimensions"];
        assert_eq!(dims, &json!([["Function", "Table"], ["Function"]]));
    }
}

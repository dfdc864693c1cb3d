//! Row-level CSV recovery (issue 15 #5): ragged rows, an unterminated quote and invalid UTF-8
//! quarantine only their own records, with line number and raw bytes; every other row lands and
//! the accounting identity holds. The object spans several read chunks and batches, so the fast
//! path runs before and after a recovered batch.

use std::collections::BTreeSet;

use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use arrow_array::Array;
use floe::ingest::{Ingestor, ObjectStatus};
use floe::source::ObjectRef;

use crate::errors::assert_accounted;
use crate::support::{self, TestEnv, LANDING};

const SPEC: &str = r#"name = "rec"
prefixes = ["rec/"]
[[columns]]
name = "id"
type = "long"
[[columns]]
name = "name"
type = "string"
[[columns]]
name = "amount"
type = "decimal(12,2)"
"#;

/// Appends one line; returns its 1-based line number.
fn add(body: &mut Vec<u8>, line: &mut u64, bytes: &[u8]) -> u64 {
    body.extend_from_slice(bytes);
    body.push(b'\n');
    *line += 1;
    *line
}

/// A bad record: line, error code, raw text as quarantined.
type Bad = (u64, &'static str, String);

/// The object, the ids that must land, and its bad records.
fn object() -> (Vec<u8>, BTreeSet<i64>, Vec<Bad>) {
    let mut body: Vec<u8> = b"id,name,amount\n".to_vec();
    let mut line = 1u64;
    let mut good = BTreeSet::new();
    let mut bad = Vec::new();
    let mut clean = |id: i64, body: &mut Vec<u8>, line: &mut u64| {
        add(body, line, format!("{id},n{id},{id}.25").as_bytes());
        good.insert(id);
    };
    for id in 1..=100 {
        clean(id, &mut body, &mut line);
    }
    let l = add(&mut body, &mut line, b"101,r");
    bad.push((l, "malformed_record", "101,r".to_string()));
    clean(102, &mut body, &mut line);
    let l = add(&mut body, &mut line, b"103,\xff\xfe,103.00");
    bad.push((l, "invalid_encoding", "103,\\xff\\xfe,103.00".to_string()));
    clean(104, &mut body, &mut line);
    // Past the first 1 MiB read chunk: the fast path runs again after the recovered batch.
    for id in 105..70_000 {
        clean(id, &mut body, &mut line);
    }
    let l = add(&mut body, &mut line, b"70000,\"open,1.00");
    bad.push((l, "malformed_record", "70000,\"open,1.00".to_string()));
    let l = add(&mut body, &mut line, b"70001,x,1.00,extra");
    bad.push((l, "malformed_record", "70001,x,1.00,extra".to_string()));
    clean(70_002, &mut body, &mut line);
    (body, good, bad)
}

#[tokio::test]
async fn bad_csv_records_are_quarantined_alone_with_line_and_raw_bytes() {
    let env = TestEnv::new(&[("rec", SPEC.to_string())]);
    let mut config = env.config();
    config.batch_rows = 1_000; // many batches: clean ones before and after the recovered ones
    let ingestor = Ingestor::new(config).await.unwrap();
    let (body, good, bad) = object();
    assert!(body.len() > 1 << 20, "spans more than one read chunk");
    let key = env.key("rec/", "broken.csv");
    env.put_raw(&key, body).await;
    let r = ingestor.ingest(ObjectRef::new(LANDING, key.clone())).await;
    assert_eq!(r.status, ObjectStatus::Committed, "{r:?}");
    assert_eq!(
        (r.rows_written, r.rows_quarantined),
        (good.len() as u64, bad.len() as u64),
        "{r:?}"
    );
    assert_accounted(&r);

    // Every good row landed once, with its values.
    let table = ingestor
        .catalog()
        .load_table(&env.ident("rec"))
        .await
        .unwrap();
    let mut ids = Vec::new();
    for b in support::scan(&table).await {
        let id = b.column_by_name("id").unwrap().as_primitive::<Int64Type>();
        let name = b.column_by_name("name").unwrap().as_string::<i32>();
        for i in 0..b.num_rows() {
            assert_eq!(name.value(i), format!("n{}", id.value(i)));
            ids.push(id.value(i));
        }
    }
    let landed: BTreeSet<i64> = ids.iter().copied().collect();
    assert_eq!(ids.len(), landed.len(), "no row twice");
    assert_eq!(landed, good);

    // Every bad record is in quarantine with its line, code and raw bytes.
    let q = ingestor
        .catalog()
        .load_table(ingestor.quarantine_table())
        .await
        .unwrap();
    let mut found = Vec::new();
    for b in support::scan(&q).await {
        let obj = b
            .column_by_name("source_object")
            .unwrap()
            .as_string::<i32>();
        let code = b.column_by_name("error_code").unwrap().as_string::<i32>();
        let msg = b.column_by_name("message").unwrap().as_string::<i32>();
        let raw = b.column_by_name("raw_record").unwrap().as_string::<i32>();
        for i in 0..b.num_rows() {
            if obj.value(i).ends_with(&key) {
                found.push((
                    msg.value(i).to_string(),
                    code.value(i).to_string(),
                    raw.is_valid(i).then(|| raw.value(i).to_string()),
                ));
            }
        }
    }
    assert_eq!(found.len(), bad.len(), "{found:?}");
    for (line, code, raw) in &bad {
        let hit = found
            .iter()
            .find(|(m, _, _)| m.contains(&format!("line {line}:")));
        let (_, c, r) = hit.unwrap_or_else(|| panic!("no record for line {line}: {found:?}"));
        assert_eq!(c, code, "line {line}");
        assert_eq!(r.as_deref(), Some(raw.as_str()), "line {line}");
    }
}

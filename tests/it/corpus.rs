//! The malformed-input corpus: for each case the expected outcome (rows in the table, rows in
//! quarantine with their codes, or the whole object quarantined), no panic, the accounting
//! identity, and a good object ingested alongside in the same invocation.

use std::io::Write;

use floe::event::IngestEvent;
use floe::ingest::ObjectStatus;
use floe::source::ObjectRef;

use crate::errors::{assert_accounted, quarantine_rows};
use crate::support::{TestEnv, LANDING};

const COLUMNS: &str = r#"
[[columns]]
name = "id"
type = "long"
required = true
[[columns]]
name = "name"
type = "string"
max_length = 20
[[columns]]
name = "amount"
type = "decimal(10,2)"
min = 0
[[columns]]
name = "ts"
type = "timestamptz"
[[columns]]
name = "qty"
type = "int"
[[columns]]
name = "country"
type = "string"
allowed = ["DE", "FR"]
[[columns]]
name = "code"
type = "string"
pattern = "^[A-Z]{3}$"
"#;

fn spec(name: &str, prefix: &str, contract: &str) -> String {
    let rules = "[[contract.rules]]\nname = \"positive_order\"\nsql = \"amount * qty < 100000 AND (qty IS NULL OR qty >= 0)\"\n";
    format!("name = \"{name}\"\nprefixes = [\"{prefix}\"]\n{contract}\n{rules}{COLUMNS}")
}

enum Expect {
    /// Rows written, and the (record, code) of each quarantined row.
    Rows(u64, Vec<(i64, &'static str)>),
    /// Quarantined whole with this code.
    Whole(&'static str),
}

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn nested_json(depth: usize) -> Vec<u8> {
    format!(
        "{{\"id\": 1, \"name\": {}1{}}}\n",
        "[".repeat(depth),
        "]".repeat(depth)
    )
    .into_bytes()
}

fn cases() -> Vec<(&'static str, &'static str, Vec<u8>, Expect)> {
    const H: &str = "id,name,amount,ts,qty,country,code\n";
    let row = |id: i64| format!("{id},n{id},1.50,2026-01-01T00:00:00Z,3,DE,ABC\n");
    let two = format!("{H}{}{}", row(1), row(2));
    let mut big_line = format!("{H}1,");
    big_line.push_str(&"x".repeat(50 << 20));
    big_line.push_str(",1.00,,1,DE,ABC\n");
    big_line.push_str(&row(2));
    let truncated_gz = {
        let mut g = gz(two.repeat(50).as_bytes());
        g.truncate(g.len() - 20);
        g
    };
    vec![
        ("c/empty.csv", "csv", vec![], Expect::Whole("undecodable")),
        (
            "c/header-only.csv",
            "csv",
            H.as_bytes().to_vec(),
            Expect::Rows(0, vec![]),
        ),
        (
            "c/bom.csv",
            "csv",
            [&[0xEF, 0xBB, 0xBF][..], two.as_bytes()].concat(),
            Expect::Rows(2, vec![]),
        ),
        (
            "c/crlf.csv",
            "csv",
            two.replace('\n', "\r\n").into_bytes(),
            Expect::Rows(2, vec![]),
        ),
        (
            "c/ragged.csv",
            "csv",
            format!("{H}{}1,2\n{}", row(1), row(3)).into_bytes(),
            Expect::Rows(2, vec![(2, "malformed_record")]),
        ),
        (
            "c/unterminated-quote.csv",
            "csv",
            format!("{H}{}4,\"open,1.0,,1,DE,ABC\n", row(1)).into_bytes(),
            Expect::Rows(1, vec![(2, "malformed_record")]),
        ),
        (
            "c/duplicate-header.csv",
            "csv",
            b"id,id,name\n1,2,a\n".to_vec(),
            Expect::Whole("undecodable"),
        ),
        (
            "c/invalid-utf8.csv",
            "csv",
            [H.as_bytes(), b"1,\xff\xfe,1.0,,1,DE,ABC\n"].concat(),
            Expect::Rows(0, vec![(1, "invalid_encoding")]),
        ),
        (
            "c/wrong-types.csv",
            "csv",
            format!(
                "{H}{}x,a,1,,1,DE,ABC\n3,b,lots,,1,DE,ABC\n4,c,1,,many,DE,ABC\n5,d,1,,1,DE,ABC\n",
                row(1)
            )
            .into_bytes(),
            Expect::Rows(
                2,
                vec![
                    (2, "invalid_type"),
                    (3, "invalid_type"),
                    (4, "invalid_type"),
                ],
            ),
        ),
        (
            "c/int-overflow.csv",
            "csv",
            format!("{H}1,a,1,,99999999999,DE,ABC\n{}", row(2)).into_bytes(),
            Expect::Rows(1, vec![(1, "invalid_type")]),
        ),
        (
            "c/timestamps.csv",
            "csv",
            format!(
                "{H}1,a,1,9999-99-99T00:00:00Z,1,DE,ABC\n2,b,1,yesterday,1,DE,ABC\n{}",
                row(3)
            )
            .into_bytes(),
            Expect::Rows(1, vec![(1, "invalid_type"), (2, "invalid_type")]),
        ),
        (
            "c/required-null.csv",
            "csv",
            format!("{H},a,1,,1,DE,ABC\n{}", row(2)).into_bytes(),
            Expect::Rows(1, vec![(1, "required_null")]),
        ),
        (
            "c/constraints.csv",
            "csv",
            format!(
                "{H}1,a,-1.00,,1,DE,ABC\n2,{},1,,1,DE,ABC\n3,c,1,,1,US,ABC\n4,d,1,,1,FR,abc\n{}",
                "y".repeat(21),
                row(5)
            )
            .into_bytes(),
            Expect::Rows(
                1,
                vec![
                    (1, "below_min"),
                    (2, "too_long"),
                    (3, "not_allowed"),
                    (4, "pattern_mismatch"),
                ],
            ),
        ),
        (
            "c/extra-and-missing-columns.csv",
            "csv",
            b"id,surprise\n1,x\n2,y\n".to_vec(),
            // Missing columns and an unknown one together: a likely rename, refused.
            Expect::Whole("schema_mismatch"),
        ),
        (
            "cr/extra-column.csv",
            "csv",
            two.replace("code\n", "code,surprise\n")
                .replace("ABC\n", "ABC,x\n")
                .into_bytes(),
            Expect::Whole("schema_mismatch"),
        ),
        (
            "cr/missing-column.csv",
            "csv",
            b"id,name\n1,a\n".to_vec(),
            Expect::Whole("schema_mismatch"),
        ),
        (
            "c/not-an-object.jsonl",
            "jsonl",
            b"{\"id\": 1}\n[1, 2, 3]\n".to_vec(),
            // Row-level: the line that is not an object is set aside, raw.
            Expect::Rows(1, vec![(2, "undecodable")]),
        ),
        (
            "c/deeply-nested.jsonl",
            "jsonl",
            nested_json(5_000),
            Expect::Rows(0, vec![(1, "invalid_type")]),
        ),
        (
            "c/one-50mb-line.csv",
            "csv",
            big_line.into_bytes(),
            // Past FLOE_MAX_RECORD_BYTES (16 MiB): the object is quarantined whole, limit named.
            Expect::Whole("limit_exceeded"),
        ),
        (
            "c/truncated.csv.gz",
            "csv",
            truncated_gz,
            Expect::Whole("undecodable"),
        ),
        (
            "c/not-zstd.csv.zst",
            "csv",
            two.clone().into_bytes(),
            Expect::Whole("undecodable"),
        ),
        (
            "c/key with spaces + ünïcode.csv",
            "csv",
            two.into_bytes(),
            Expect::Rows(2, vec![]),
        ),
    ]
}

#[tokio::test]
async fn malformed_corpus_is_quarantined_and_accounted() {
    let env = TestEnv::new(&[
        ("c", spec("c", "c/", "")),
        (
            "cr",
            spec(
                "cr",
                "cr/",
                "[contract]\nunknown_columns = \"reject\"\nmissing_columns = \"reject\"",
            ),
        ),
    ]);
    let cases = cases();
    let mut objects = Vec::new();
    for (name, _, bytes, _) in &cases {
        let (prefix, file) = name.split_once('/').unwrap();
        let key = env.key(&format!("{prefix}/"), file);
        env.put_raw(&key, bytes.clone()).await;
        objects.push(ObjectRef::new(LANDING, key));
    }
    let ingestor = env.ingestor().await;
    // Dry run first, through the validate function's handler: it must write nothing...
    let mut dry = Vec::new();
    for o in &objects {
        let event = serde_json::json!({"bucket": o.bucket, "key": o.key, "max_examples": 3});
        let r = validate::handle(
            &ingestor,
            lambda_runtime::LambdaEvent::new(event, Default::default()),
        )
        .await
        .unwrap();
        dry.push(r.reports.into_iter().next().unwrap());
    }
    assert!(
        ingestor
            .catalog()
            .load_table(&env.ident("c"))
            .await
            .is_err(),
        "dry run created no table"
    );
    let response = ingestor.handle(IngestEvent::Objects(objects)).await;
    assert_eq!(response.objects.len(), cases.len());
    for (((name, _, _, expect), report), dry) in cases.iter().zip(&response.objects).zip(&dry) {
        assert_accounted(report);
        // ...and predict exactly what ingest did.
        assert_eq!(
            dry.rows_valid, report.rows_written,
            "{name}: dry run {dry:?} vs ingest {report:?}"
        );
        assert_eq!(
            dry.rows_invalid, report.rows_quarantined,
            "{name}: dry run {dry:?} vs ingest {report:?}"
        );
        assert_eq!(
            dry.verdict == floe::validate::Verdict::Unreadable,
            report.status == ObjectStatus::Quarantined,
            "{name}"
        );
        assert!(dry.examples.len() <= 3);
        let file = name.split_once('/').unwrap().1;
        let q = quarantine_rows(&env, file).await;
        match expect {
            Expect::Rows(written, bad) => {
                assert_eq!(report.status, ObjectStatus::Committed, "{name}: {report:?}");
                assert_eq!(report.rows_written, *written, "{name}: {report:?}");
                assert_eq!(
                    report.rows_quarantined,
                    bad.len() as u64,
                    "{name}: {report:?}"
                );
                let got: Vec<(i64, String)> =
                    q.iter().map(|r| (r.0.unwrap(), r.2.clone())).collect();
                let want: Vec<(i64, String)> =
                    bad.iter().map(|(r, c)| (*r, c.to_string())).collect();
                assert_eq!(got, want, "{name}");
                let mut dry_counts = std::collections::BTreeMap::new();
                for (_, c) in &want {
                    *dry_counts.entry(c.clone()).or_insert(0u64) += 1;
                }
                assert_eq!(dry.counts, dry_counts, "{name}: dry-run counts per code");
            }
            Expect::Whole(code) => {
                assert_eq!(
                    report.status,
                    ObjectStatus::Quarantined,
                    "{name}: {report:?}"
                );
                assert_eq!(report.rows_written, 0, "{name}");
                assert!(
                    report.error.as_ref().unwrap().contains(file),
                    "{name}: error must name the object: {report:?}"
                );
                assert_eq!(q.len(), 1, "{name}: {q:?}");
                assert_eq!(q[0].2, *code, "{name}: {q:?}");
            }
        }
    }
}

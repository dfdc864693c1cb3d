//! Avro input (issue 15 #4): object container files written by apache-avro (another Rust
//! implementation) with each codec — null, deflate, snappy, zstd — and several blocks; logical
//! types (decimal, timestamp-micros, date, uuid), records, arrays and maps into a nested table;
//! values exact, a value that cannot be stored exactly quarantines its row, a file that is not
//! Avro is quarantined whole.

use std::collections::BTreeMap;

use apache_avro::types::{Record, Value as Avro};
use apache_avro::{Codec, DeflateSettings, Schema, Writer, ZstandardSettings};
use arrow::util::display::{ArrayFormatter, FormatOptions};
use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use floe::ingest::ObjectStatus;
use floe::source::ObjectRef;

use crate::errors::{assert_accounted, quarantine_rows};
use crate::support::{self, TestEnv, LANDING};

const SPEC: &str = r#"name = "av"
prefixes = ["av/"]
[[columns]]
name = "id"
type = "long"
required = true
[[columns]]
name = "name"
type = "string"
[[columns]]
name = "amount"
type = "decimal(10, 2)"
[[columns]]
name = "ts"
type = "timestamptz"
[[columns]]
name = "day"
type = "date"
[[columns]]
name = "uid"
type = "uuid"
[[columns]]
name = "tags"
type = "list<string>"
[[columns]]
name = "address"
type = "struct<city: string, zip: int>"
[[columns]]
name = "attrs"
type = "map<string, long>"
"#;

pub(crate) const SCHEMA: &str = r#"{"type": "record", "name": "ev", "fields": [
  {"name": "id", "type": "long"},
  {"name": "name", "type": ["null", "string"]},
  {"name": "amount", "type": {"type": "bytes", "logicalType": "decimal", "precision": 10, "scale": 3}},
  {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-micros"}},
  {"name": "day", "type": {"type": "int", "logicalType": "date"}},
  {"name": "uid", "type": {"type": "string", "logicalType": "uuid"}},
  {"name": "tags", "type": {"type": "array", "items": "string"}},
  {"name": "address", "type": {"type": "record", "name": "addr", "fields": [
    {"name": "city", "type": "string"}, {"name": "zip", "type": "int"}]}},
  {"name": "attrs", "type": {"type": "map", "values": "long"}},
  {"name": "extra", "type": "string"}
]}"#;

const UID: &str = "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b";

/// Amount of row `id` in thousandths: every 7th has a third decimal digit (not exact at scale 2).
fn milli(id: i64) -> i64 {
    if id % 7 == 0 {
        id * 1000 + 5
    } else {
        id * 1000 + 250
    }
}

pub(crate) fn avro_file(codec: Codec, ids: std::ops::Range<i64>) -> Vec<u8> {
    let schema = Schema::parse_str(SCHEMA).unwrap();
    let mut w = Writer::with_codec(&schema, Vec::new(), codec);
    for id in ids {
        let mut r = Record::new(&schema).unwrap();
        r.put("id", id);
        r.put(
            "name",
            Avro::Union(
                if id % 5 == 0 { 0 } else { 1 },
                Box::new(if id % 5 == 0 {
                    Avro::Null
                } else {
                    Avro::String(format!("n{id}"))
                }),
            ),
        );
        r.put(
            "amount",
            Avro::Decimal(apache_avro::Decimal::from(milli(id).to_be_bytes())),
        );
        r.put("ts", Avro::TimestampMicros(1_700_000_000_000_000 + id));
        r.put("day", Avro::Date(19_000 + id as i32));
        r.put("uid", Avro::Uuid(UID.parse().unwrap()));
        r.put(
            "tags",
            Avro::Array(vec![Avro::String("t".into()), Avro::String(id.to_string())]),
        );
        r.put(
            "address",
            Avro::Record(vec![
                ("city".into(), Avro::String(format!("c{id}"))),
                ("zip".into(), Avro::Int(10_000 + id as i32)),
            ]),
        );
        r.put(
            "attrs",
            Avro::Map(
                [("k".to_string(), Avro::Long(id * 2))]
                    .into_iter()
                    .collect(),
            ),
        );
        r.put("extra", "x");
        w.append(r).unwrap();
        if id % 50 == 49 {
            w.flush().unwrap(); // several blocks per file
        }
    }
    w.into_inner().unwrap()
}

#[tokio::test]
async fn avro_files_of_every_codec_land_exactly_in_a_nested_table() {
    let env = TestEnv::new(&[("av", SPEC.to_string())]);
    let mut config = env.config();
    config.batch_rows = 64; // batches cross block boundaries
    let ingestor = floe::ingest::Ingestor::new(config).await.unwrap();
    let files = [
        ("null.avro", Codec::Null, 0..300),
        (
            "deflate.avro",
            Codec::Deflate(DeflateSettings::default()),
            300..600,
        ),
        ("snappy.avro", Codec::Snappy, 600..900),
        (
            "zstd.avro",
            Codec::Zstandard(ZstandardSettings::default()),
            900..1200,
        ),
    ];
    let mut expected_ids = Vec::new();
    for (name, codec, ids) in files {
        let lossy = ids.clone().filter(|id| id % 7 == 0).count() as u64;
        let total = ids.clone().count() as u64;
        expected_ids.extend(ids.clone().filter(|id| id % 7 != 0));
        let key = env.key("av/", name);
        env.put_raw(&key, avro_file(codec, ids)).await;
        let r = ingestor.ingest(ObjectRef::new(LANDING, key.clone())).await;
        assert_eq!(r.status, ObjectStatus::Committed, "{name}: {r:?}");
        assert_eq!(
            (r.rows_written, r.rows_quarantined),
            (total - lossy, lossy),
            "{name}: {r:?}"
        );
        assert_eq!(r.unknown_columns, vec!["extra".to_string()], "{name}");
        assert_accounted(&r);
        for (_, field, code, _) in quarantine_rows(&env, &key).await {
            assert_eq!(
                (field.as_deref(), code.as_str()),
                (Some("amount"), "lossy_value")
            );
        }
    }

    // Not Avro at all: quarantined whole.
    let key = env.key("av/", "broken.avro");
    env.put_raw(&key, b"Obj\x01 this is not avro".to_vec())
        .await;
    let r = ingestor.ingest(ObjectRef::new(LANDING, key)).await;
    assert_eq!(r.status, ObjectStatus::Quarantined, "{r:?}");

    let table = ingestor
        .catalog()
        .load_table(&env.ident("av"))
        .await
        .unwrap();
    let mut seen: BTreeMap<i64, String> = BTreeMap::new();
    for b in support::scan(&table).await {
        let fmt = |c: &str| {
            ArrayFormatter::try_new(
                b.column_by_name(c).unwrap().as_ref(),
                &FormatOptions::default(),
            )
            .unwrap()
        };
        let (name, amount, ts, day, uid, tags, address, attrs) = (
            fmt("name"),
            fmt("amount"),
            fmt("ts"),
            fmt("day"),
            fmt("uid"),
            fmt("tags"),
            fmt("address"),
            fmt("attrs"),
        );
        let ids = b.column_by_name("id").unwrap().as_primitive::<Int64Type>();
        for i in 0..b.num_rows() {
            let line = [&name, &amount, &ts, &day, &uid, &tags, &address, &attrs]
                .iter()
                .map(|f| f.value(i).to_string())
                .collect::<Vec<_>>()
                .join("|");
            assert!(seen.insert(ids.value(i), line).is_none(), "row twice");
        }
    }
    expected_ids.sort();
    assert_eq!(seen.keys().copied().collect::<Vec<_>>(), expected_ids);
    let hex_uid = UID.replace('-', "");
    for (id, line) in &seen {
        let id = *id;
        let name = if id % 5 == 0 {
            String::new()
        } else {
            format!("n{id}")
        };
        let micros = 1_700_000_000_000_000 + id;
        let ts = chrono::DateTime::from_timestamp_micros(micros)
            .unwrap()
            .format("%Y-%m-%dT%H:%M:%S%.fZ")
            .to_string();
        let day = (chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap()
            + chrono::Days::new(19_000 + id as u64))
        .to_string();
        let want = format!(
            "{name}|{}.25|{ts}|{day}|{hex_uid}|[t, {id}]|{{city: c{id}, zip: {}}}|{{k: {}}}",
            id,
            10_000 + id,
            id * 2
        );
        assert_eq!(line, &want, "row {id}");
    }
}

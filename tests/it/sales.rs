//! The rows the format tests write, in CSV / JSON lines / Parquet, and their read-back.

use std::io::Write;
use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use arrow_array::cast::AsArray;
use arrow_array::types::{Decimal128Type, Int32Type, Int64Type, TimestampMicrosecondType};
use arrow_array::{
    Array, ArrayRef, BooleanArray, Int64Array, RecordBatch, StringArray, TimestampMillisecondArray,
};

const BASE_MICROS: i64 = 1_767_225_600_000_000; // 2026-01-01T00:00:00Z

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Sale {
    pub id: i64,
    pub name: Option<String>,
    pub amount_cents: Option<i128>,
    pub ts_micros: Option<i64>,
    pub qty: Option<i32>,
    pub flag: Option<bool>,
}

/// `n` rows with nulls, quotes, commas and non-ASCII text, spread over ~n/24 days.
pub fn rows(n: i64) -> Vec<Sale> {
    (0..n)
        .map(|i| Sale {
            id: i,
            name: (i % 7 != 0).then(|| format!("name {i}, \"q\" é")),
            amount_cents: (i % 13 != 0).then(|| ((i * 3_717) % 1_000_000 - 5_000) as i128),
            ts_micros: Some(BASE_MICROS + i * 3_600_000_000),
            qty: (i % 11 != 0).then_some((i % 50) as i32),
            flag: (i % 5 != 0).then_some(i % 3 == 0),
        })
        .collect()
}

fn money(cents: i128) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", cents.abs() / 100, cents.abs() % 100)
}

fn rfc3339(micros: i64) -> String {
    chrono::DateTime::from_timestamp_micros(micros)
        .unwrap()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// CSV with columns in another order than the table, an extra column, CRLF-free, quoted names.
pub fn csv(rows: &[Sale]) -> Vec<u8> {
    let mut out = b"ts,extra,id,name,amount,qty,flag\n".to_vec();
    for r in rows {
        let name = r
            .name
            .as_ref()
            .map(|n| format!("\"{}\"", n.replace('"', "\"\"")))
            .unwrap_or_default();
        writeln!(
            out,
            "{},x{},{},{},{},{},{}",
            r.ts_micros.map(rfc3339).unwrap_or_default(),
            r.id,
            r.id,
            name,
            r.amount_cents.map(money).unwrap_or_default(),
            r.qty.map(|q| q.to_string()).unwrap_or_default(),
            r.flag.map(|f| f.to_string()).unwrap_or_default(),
        )
        .unwrap();
    }
    out
}

/// JSON lines, gzip-compressed; nulls are sometimes `null`, sometimes absent keys.
pub fn jsonl_gz(rows: &[Sale]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    for r in rows {
        let mut m = serde_json::Map::new();
        m.insert("id".into(), r.id.into());
        if r.id % 2 == 0 || r.name.is_some() {
            m.insert("name".into(), r.name.clone().into());
        }
        if let Some(c) = r.amount_cents {
            m.insert("amount".into(), money(c).into());
        }
        m.insert("ts".into(), r.ts_micros.map(rfc3339).into());
        m.insert("qty".into(), r.qty.into());
        m.insert("flag".into(), r.flag.into());
        m.insert("unknown_key".into(), "ignored".into());
        writeln!(gz, "{}", serde_json::Value::Object(m)).unwrap();
    }
    gz.finish().unwrap()
}

/// Parquet whose types differ from the table's (ids as i64, amount text, ts in ms, qty i64).
pub fn parquet(rows: &[Sale]) -> Vec<u8> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("qty", DataType::Int64, true),
        Field::new("id", DataType::Int64, false),
        Field::new("name", DataType::Utf8, true),
        Field::new("amount", DataType::Utf8, true),
        Field::new(
            "ts",
            DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
            true,
        ),
        Field::new("flag", DataType::Boolean, true),
    ]));
    let cols: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from_iter(
            rows.iter().map(|r| r.qty.map(i64::from)),
        )),
        Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.id))),
        Arc::new(StringArray::from_iter(rows.iter().map(|r| r.name.clone()))),
        Arc::new(StringArray::from_iter(
            rows.iter().map(|r| r.amount_cents.map(money)),
        )),
        Arc::new(
            TimestampMillisecondArray::from_iter(
                rows.iter().map(|r| r.ts_micros.map(|m| m / 1000)),
            )
            .with_timezone("UTC"),
        ),
        Arc::new(BooleanArray::from_iter(rows.iter().map(|r| r.flag))),
    ];
    let batch = RecordBatch::try_new(schema.clone(), cols).unwrap();
    let mut out = Vec::new();
    let mut w = parquet::arrow::ArrowWriter::try_new(&mut out, schema, None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    out
}

/// Rows of scanned batches (table schema), sorted by id.
pub fn from_batches(batches: &[RecordBatch]) -> Vec<Sale> {
    let mut out = Vec::new();
    for b in batches {
        let col = |name: &str| {
            b.column_by_name(name)
                .unwrap_or_else(|| panic!("column {name}"))
                .clone()
        };
        let (id, name, amount, ts, qty, flag) = (
            col("id"),
            col("name"),
            col("amount"),
            col("ts"),
            col("qty"),
            col("flag"),
        );
        let id = id.as_primitive::<Int64Type>();
        let name = name.as_string::<i32>();
        let amount = amount.as_primitive::<Decimal128Type>();
        let ts = ts.as_primitive::<TimestampMicrosecondType>();
        let qty = qty.as_primitive::<Int32Type>();
        let flag = flag.as_boolean();
        for i in 0..b.num_rows() {
            out.push(Sale {
                id: id.value(i),
                name: name.is_valid(i).then(|| name.value(i).to_string()),
                amount_cents: amount.is_valid(i).then(|| amount.value(i)),
                ts_micros: ts.is_valid(i).then(|| ts.value(i)),
                qty: qty.is_valid(i).then(|| qty.value(i)),
                flag: flag.is_valid(i).then(|| flag.value(i)),
            });
        }
    }
    out.sort();
    out
}

/// The UTC day (YYYY-MM-DD) of a timestamp.
pub fn day(micros: i64) -> String {
    chrono::DateTime::from_timestamp_micros(micros)
        .unwrap()
        .format("%Y-%m-%d")
        .to_string()
}

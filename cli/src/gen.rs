//! `floe gen`: deterministic sample data shaped like the demo `orders` table (10 columns), for the
//! demo and the benchmarks. A small xorshift keeps it dependency-free and reproducible.

use std::io::{BufWriter, Write};
use std::sync::Arc;

use anyhow::Result;
use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use arrow_array::{
    ArrayRef, BooleanArray, Float64Array, Int32Array, Int64Array, RecordBatch, StringArray,
    TimestampMicrosecondArray,
};
use parquet::arrow::ArrowWriter;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const CUSTOMERS: [&str; 8] = [
    "acme", "globex", "initech", "umbrella", "hooli", "stark", "wayne", "wonka",
];
const COUNTRIES: [&str; 6] = ["DE", "FR", "US", "JP", "BR", "IN"];
const STATUS: [&str; 4] = ["new", "paid", "shipped", "returned"];
const BASE_TS_MICROS: i64 = 1_767_225_600_000_000; // 2026-01-01T00:00:00Z

/// One generated order row.
struct Row {
    order_id: i64,
    customer: &'static str,
    country: &'static str,
    status: &'static str,
    quantity: i32,
    unit_price: f64,
    amount_cents: i64,
    ts_micros: i64,
    express: bool,
    note: String,
}

fn row(i: u64, rng: &mut Rng) -> Row {
    let quantity = 1 + rng.below(20) as i32;
    let unit_cents = 100 + rng.below(99_900) as i64;
    Row {
        order_id: i as i64 + 1,
        customer: CUSTOMERS[rng.below(8) as usize],
        country: COUNTRIES[rng.below(6) as usize],
        status: STATUS[rng.below(4) as usize],
        quantity,
        unit_price: unit_cents as f64 / 100.0,
        amount_cents: unit_cents * quantity as i64,
        ts_micros: BASE_TS_MICROS + (rng.below(30 * 86_400) as i64) * 1_000_000,
        express: rng.below(5) == 0,
        note: format!("order {} for batch {}", i + 1, rng.below(1000)),
    }
}

fn rfc3339(micros: i64) -> String {
    chrono::DateTime::from_timestamp_micros(micros)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

/// `rows` orders as CSV bytes (header included), for in-memory benchmarks.
pub fn csv_bytes(rows: u64, seed: u64) -> Vec<u8> {
    let mut rng = Rng(seed.max(1));
    let mut w = Vec::with_capacity(rows as usize * 100);
    write_csv(&mut w, rows, &mut rng).expect("writing to a Vec cannot fail");
    w
}

fn write_csv(w: &mut impl Write, rows: u64, rng: &mut Rng) -> std::io::Result<()> {
    writeln!(
        w,
        "order_id,customer,country,status,quantity,unit_price,amount,order_ts,express,note"
    )?;
    for i in 0..rows {
        let r = row(i, rng);
        writeln!(
            w,
            "{},{},{},{},{},{:.2},{}.{:02},{},{},\"{}\"",
            r.order_id,
            r.customer,
            r.country,
            r.status,
            r.quantity,
            r.unit_price,
            r.amount_cents / 100,
            r.amount_cents % 100,
            rfc3339(r.ts_micros),
            r.express,
            r.note
        )?;
    }
    Ok(())
}

/// What `floe gen` writes.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Kind {
    /// CSV with a header row.
    Csv,
    /// JSON lines.
    Jsonl,
    /// Parquet (ZSTD).
    Parquet,
}

/// `floe gen`: deterministic sample data shaped like the demo `orders` table.
#[derive(Debug, clap::Args)]
pub struct GenArgs {
    /// File format to write.
    #[arg(value_enum)]
    kind: Kind,
    /// Number of rows.
    #[arg(long, default_value_t = 1000)]
    rows: u64,
    /// Output file.
    #[arg(long, value_name = "FILE")]
    out: String,
    /// Seed of the generator (same seed, same file).
    #[arg(long, default_value_t = 42)]
    seed: u64,
}

/// Writes the file `args` describe.
pub fn run(args: &GenArgs) -> Result<()> {
    let (rows, seed, out) = (args.rows, args.seed, args.out.clone());
    let mut rng = Rng(seed.max(1));
    match args.kind {
        Kind::Csv => {
            let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(&out)?);
            write_csv(&mut w, rows, &mut rng)?;
            w.flush()?;
        }
        Kind::Jsonl => {
            let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(&out)?);
            for i in 0..rows {
                let r = row(i, &mut rng);
                let v = serde_json::json!({
                    "order_id": r.order_id, "customer": r.customer, "country": r.country, "status": r.status,
                    "quantity": r.quantity, "unit_price": r.unit_price,
                    "amount": format!("{}.{:02}", r.amount_cents / 100, r.amount_cents % 100),
                    "order_ts": rfc3339(r.ts_micros), "express": r.express, "note": r.note,
                });
                writeln!(w, "{v}")?;
            }
            w.flush()?;
        }
        Kind::Parquet => write_parquet(&out, rows, &mut rng)?,
    }
    Ok(())
}

fn write_parquet(out: &str, rows: u64, rng: &mut Rng) -> Result<()> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("order_id", DataType::Int64, false),
        Field::new("customer", DataType::Utf8, true),
        Field::new("country", DataType::Utf8, true),
        Field::new("status", DataType::Utf8, true),
        Field::new("quantity", DataType::Int32, true),
        Field::new("unit_price", DataType::Float64, true),
        // Deliberately not decimal: Floe casts it to the table's decimal(12,2).
        Field::new("amount", DataType::Utf8, true),
        Field::new(
            "order_ts",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            true,
        ),
        Field::new("express", DataType::Boolean, true),
        Field::new("note", DataType::Utf8, true),
    ]));
    let mut writer = ArrowWriter::try_new(std::fs::File::create(out)?, schema.clone(), None)?;
    let chunk = 65_536u64;
    let mut start = 0;
    while start < rows {
        let n = chunk.min(rows - start);
        let rs: Vec<Row> = (start..start + n).map(|i| row(i, rng)).collect();
        let cols: Vec<ArrayRef> = vec![
            Arc::new(Int64Array::from_iter_values(rs.iter().map(|r| r.order_id))),
            Arc::new(StringArray::from_iter_values(rs.iter().map(|r| r.customer))),
            Arc::new(StringArray::from_iter_values(rs.iter().map(|r| r.country))),
            Arc::new(StringArray::from_iter_values(rs.iter().map(|r| r.status))),
            Arc::new(Int32Array::from_iter_values(rs.iter().map(|r| r.quantity))),
            Arc::new(Float64Array::from_iter_values(
                rs.iter().map(|r| r.unit_price),
            )),
            Arc::new(StringArray::from_iter_values(rs.iter().map(|r| {
                format!("{}.{:02}", r.amount_cents / 100, r.amount_cents % 100)
            }))),
            Arc::new(
                TimestampMicrosecondArray::from_iter_values(rs.iter().map(|r| r.ts_micros))
                    .with_timezone("UTC"),
            ),
            Arc::new(BooleanArray::from_iter(rs.iter().map(|r| Some(r.express)))),
            Arc::new(StringArray::from_iter_values(
                rs.iter().map(|r| r.note.as_str()),
            )),
        ];
        writer.write(&RecordBatch::try_new(schema.clone(), cols)?)?;
        start += n;
    }
    writer.close()?;
    Ok(())
}

//! Sort compaction (`strategy = "sort"`): a file group's rows rewritten in a sort order — the
//! table's sort order, or a `sort-order` option in Spark's syntax (`country ASC NULLS FIRST,
//! ts DESC`) or a z-order (`zorder(lat, lon)`), as Iceberg's `rewrite_data_files` names them.
//!
//! An external merge sort bounded in memory: rows are buffered up to a byte budget, sorted and,
//! when more follow, spilled as a sorted run (Arrow IPC) to a temporary directory (Lambda's
//! `/tmp`); at the end the runs are merged k ways, one batch per run in memory. Sort keys are
//! compared as arrow's row format (`RowConverter`), which orders every type, direction and null
//! placement as bytes; a z-order key interleaves the bits of each column's order-preserving
//! 64-bit image, as Iceberg's `ZOrderByteUtils` does.

use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::path::PathBuf;
use std::sync::Arc;

use arrow::compute::interleave_record_batch;
use arrow::ipc::reader::StreamReader;
use arrow::ipc::writer::StreamWriter;
use arrow::row::{RowConverter, Rows, SortField};
use arrow_array::cast::AsArray;
use arrow_array::types::*;
use arrow_array::{Array, ArrayRef, BinaryArray, RecordBatch};
use arrow_schema::{ArrowError, DataType, SchemaRef, SortOptions};
use iceberg::spec::{NullOrder, SortDirection, Transform};
use iceberg::table::Table;

use super::MaintenanceError;
use crate::write::DataFileSink;

/// Rows per batch read back from a spilled run while merging (and per output batch).
const MERGE_BATCH_ROWS: usize = 8192;

/// Default bytes of input a sort holds before spilling a sorted run.
pub const DEFAULT_SORT_MEMORY_BYTES: usize = 64 * 1024 * 1024;

/// What rows are sorted by.
#[derive(Debug, Clone, PartialEq)]
pub enum SortKey {
    /// Columns in order, each ascending or descending, nulls first or last.
    Columns(Vec<SortColumn>),
    /// The z-order of these columns (no direction: it clusters them together).
    ZOrder(Vec<String>),
}

/// One column of a sort order.
#[derive(Debug, Clone, PartialEq)]
pub struct SortColumn {
    /// Column name (top level).
    pub name: String,
    /// Descending order.
    pub descending: bool,
    /// Nulls before values.
    pub nulls_first: bool,
}

impl SortKey {
    /// Parses Spark's `sort_order` text: `col [ASC|DESC] [NULLS FIRST|NULLS LAST], ...` (nulls
    /// first for ascending, last for descending by default), or `zorder(col, ...)`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let t = text.trim();
        if let Some(inner) = t
            .strip_prefix("zorder(")
            .or_else(|| t.strip_prefix("ZORDER("))
            .and_then(|r| r.strip_suffix(')'))
        {
            let cols: Vec<String> = inner.split(',').map(|c| c.trim().to_string()).collect();
            if cols.iter().any(String::is_empty) {
                return Err(format!("`{text}`: zorder() needs column names"));
            }
            return Ok(Self::ZOrder(cols));
        }
        let mut columns = Vec::new();
        for part in t.split(',') {
            let words: Vec<String> = part
                .split_whitespace()
                .map(|w| w.to_ascii_uppercase())
                .collect();
            let name = part.split_whitespace().next().unwrap_or_default();
            if name.is_empty() {
                return Err(format!("`{text}`: an empty sort column"));
            }
            let rest: Vec<&str> = words[1..].iter().map(String::as_str).collect();
            let (descending, nulls) = match rest.as_slice() {
                [] | ["ASC"] => (false, None),
                ["DESC"] => (true, None),
                ["NULLS", n] | ["ASC", "NULLS", n] => (false, Some(*n)),
                ["DESC", "NULLS", n] => (true, Some(*n)),
                _ => {
                    return Err(format!(
                        "`{part}`: expected `col [ASC|DESC] [NULLS FIRST|LAST]`"
                    ))
                }
            };
            let nulls_first = match nulls {
                None => !descending,
                Some("FIRST") => true,
                Some("LAST") => false,
                Some(other) => return Err(format!("`{part}`: NULLS {other}?")),
            };
            columns.push(SortColumn {
                name: name.to_string(),
                descending,
                nulls_first,
            });
        }
        Ok(Self::Columns(columns))
    }

    /// The table's default sort order (identity transforms), if it has one.
    pub fn of_table(table: &Table) -> Result<Option<Self>, String> {
        let metadata = table.metadata();
        let order = metadata.default_sort_order();
        if order.is_unsorted() {
            return Ok(None);
        }
        let schema = metadata.current_schema();
        let mut columns = Vec::new();
        for f in &order.fields {
            if f.transform != Transform::Identity {
                return Err(format!(
                    "the table's sort order uses the {} transform: name the order in `sort-order`",
                    f.transform
                ));
            }
            let name = schema
                .name_by_field_id(f.source_id)
                .ok_or_else(|| format!("sort order field {} is not in the schema", f.source_id))?;
            columns.push(SortColumn {
                name: name.to_string(),
                descending: f.direction == SortDirection::Descending,
                nulls_first: f.null_order == NullOrder::First,
            });
        }
        Ok(Some(Self::Columns(columns)))
    }

    fn names(&self) -> Vec<&str> {
        match self {
            Self::Columns(c) => c.iter().map(|c| c.name.as_str()).collect(),
            Self::ZOrder(c) => c.iter().map(String::as_str).collect(),
        }
    }
}

/// Turns batches into comparable sort keys (arrow's row format).
struct KeyEncoder {
    key: SortKey,
    /// Column indices of the key's columns in the batches.
    indices: Vec<usize>,
    converter: RowConverter,
}

impl KeyEncoder {
    fn new(key: SortKey, schema: &SchemaRef) -> Result<Self, MaintenanceError> {
        let mut indices = Vec::new();
        for name in key.names() {
            let i = schema.index_of(name).map_err(|_| {
                MaintenanceError::Unsupported(format!("sort column `{name}` is not in the table"))
            })?;
            let dt = schema.field(i).data_type();
            if dt.is_nested() {
                return Err(MaintenanceError::Unsupported(format!(
                    "sort column `{name}` is nested ({dt})"
                )));
            }
            indices.push(i);
        }
        let fields = match &key {
            SortKey::Columns(cols) => cols
                .iter()
                .zip(&indices)
                .map(|(c, i)| {
                    SortField::new_with_options(
                        schema.field(*i).data_type().clone(),
                        SortOptions {
                            descending: c.descending,
                            nulls_first: c.nulls_first,
                        },
                    )
                })
                .collect(),
            SortKey::ZOrder(_) => vec![SortField::new(DataType::Binary)],
        };
        let converter = RowConverter::new(fields).map_err(arrow_err)?;
        Ok(Self {
            key,
            indices,
            converter,
        })
    }

    fn rows(&self, batch: &RecordBatch) -> Result<Rows, MaintenanceError> {
        let columns: Vec<ArrayRef> = self
            .indices
            .iter()
            .map(|i| batch.column(*i).clone())
            .collect();
        let columns = match self.key {
            SortKey::Columns(_) => columns,
            SortKey::ZOrder(_) => {
                vec![Arc::new(zorder_key(&columns).map_err(arrow_err)?) as ArrayRef]
            }
        };
        self.converter.convert_columns(&columns).map_err(arrow_err)
    }
}

/// The z-order key of each row: the bits of the columns' order-preserving 64-bit images
/// interleaved, most significant first (8 bytes per column, compared as bytes).
pub fn zorder_key(columns: &[ArrayRef]) -> Result<BinaryArray, ArrowError> {
    let images: Vec<Vec<u64>> = columns.iter().map(ordered_u64).collect::<Result<_, _>>()?;
    let rows = columns.first().map_or(0, |c| c.len());
    let n = columns.len();
    let mut out = Vec::with_capacity(rows);
    for r in 0..rows {
        let mut key = vec![0u8; n * 8];
        let mut bit = 0usize;
        for b in (0..64).rev() {
            for image in &images {
                if (image[r] >> b) & 1 == 1 {
                    key[bit / 8] |= 0x80 >> (bit % 8);
                }
                bit += 1;
            }
        }
        out.push(key);
    }
    Ok(BinaryArray::from_iter_values(out))
}

/// Each value's order-preserving unsigned 64-bit image (nulls: 0, the smallest).
fn ordered_u64(a: &ArrayRef) -> Result<Vec<u64>, ArrowError> {
    const SIGN: u64 = 1 << 63;
    let signed = |v: i64| (v as u64) ^ SIGN;
    let float = |f: f64| {
        let bits = f.to_bits();
        if bits & SIGN != 0 {
            !bits
        } else {
            bits | SIGN
        }
    };
    let bytes = |b: &[u8]| {
        let mut x = [0u8; 8];
        let n = b.len().min(8);
        x[..n].copy_from_slice(&b[..n]);
        u64::from_be_bytes(x)
    };
    let values: Vec<Option<u64>> = match a.data_type() {
        DataType::Boolean => a
            .as_boolean()
            .iter()
            .map(|v| v.map(|b| u64::from(b) << 63))
            .collect(),
        DataType::Int8 => a
            .as_primitive::<Int8Type>()
            .iter()
            .map(|v| v.map(|v| signed(v.into())))
            .collect(),
        DataType::Int16 => a
            .as_primitive::<Int16Type>()
            .iter()
            .map(|v| v.map(|v| signed(v.into())))
            .collect(),
        DataType::Int32 => a
            .as_primitive::<Int32Type>()
            .iter()
            .map(|v| v.map(|v| signed(v.into())))
            .collect(),
        DataType::Int64 => a
            .as_primitive::<Int64Type>()
            .iter()
            .map(|v| v.map(signed))
            .collect(),
        DataType::Date32 => a
            .as_primitive::<Date32Type>()
            .iter()
            .map(|v| v.map(|v| signed(v.into())))
            .collect(),
        DataType::Time64(_) | DataType::Timestamp(_, _) => {
            let c = arrow::compute::cast(a, &DataType::Int64)?;
            c.as_primitive::<Int64Type>()
                .iter()
                .map(|v| v.map(signed))
                .collect()
        }
        DataType::Float32 => a
            .as_primitive::<Float32Type>()
            .iter()
            .map(|v| v.map(|f| float(f.into())))
            .collect(),
        DataType::Float64 => a
            .as_primitive::<Float64Type>()
            .iter()
            .map(|v| v.map(float))
            .collect(),
        DataType::Decimal128(_, _) => a
            .as_primitive::<Decimal128Type>()
            .iter()
            .map(|v| v.map(|v| signed(v.clamp(i64::MIN.into(), i64::MAX.into()) as i64)))
            .collect(),
        DataType::Utf8 => a
            .as_string::<i32>()
            .iter()
            .map(|v| v.map(|s| bytes(s.as_bytes())))
            .collect(),
        DataType::LargeUtf8 => a
            .as_string::<i64>()
            .iter()
            .map(|v| v.map(|s| bytes(s.as_bytes())))
            .collect(),
        DataType::Binary => a.as_binary::<i32>().iter().map(|v| v.map(bytes)).collect(),
        DataType::FixedSizeBinary(_) => a
            .as_fixed_size_binary()
            .iter()
            .map(|v| v.map(bytes))
            .collect(),
        other => {
            return Err(ArrowError::NotYetImplemented(format!(
                "z-order on a {other} column"
            )))
        }
    };
    Ok(values.into_iter().map(|v| v.unwrap_or(0)).collect())
}

fn arrow_err(e: ArrowError) -> MaintenanceError {
    MaintenanceError::Iceberg(iceberg::Error::new(
        iceberg::ErrorKind::Unexpected,
        format!("sort: {e}"),
    ))
}

fn io_err(what: &str, e: impl std::fmt::Display) -> MaintenanceError {
    MaintenanceError::Storage(format!("sort spill: {what}: {e}"))
}

/// An external merge sort into a [`DataFileSink`]: batches in, sorted rows out, at most
/// `memory_bytes` of input buffered (plus one batch per spilled run while merging).
pub struct ExternalSorter {
    encoder: KeyEncoder,
    schema: SchemaRef,
    memory_bytes: usize,
    buffer: Vec<RecordBatch>,
    buffered: usize,
    spill_dir: Option<PathBuf>,
    runs: Vec<PathBuf>,
}

impl ExternalSorter {
    /// A sorter of `schema`'s rows by `key`, spilling past `memory_bytes`.
    pub fn new(
        key: SortKey,
        schema: SchemaRef,
        memory_bytes: usize,
    ) -> Result<Self, MaintenanceError> {
        Ok(Self {
            encoder: KeyEncoder::new(key, &schema)?,
            schema,
            memory_bytes: memory_bytes.max(1),
            buffer: Vec::new(),
            buffered: 0,
            spill_dir: None,
            runs: Vec::new(),
        })
    }

    /// Sorted runs spilled so far.
    pub fn runs(&self) -> usize {
        self.runs.len()
    }

    /// Adds a batch, spilling a sorted run when the buffer is full.
    pub fn push(&mut self, batch: RecordBatch) -> Result<(), MaintenanceError> {
        self.buffered += batch.get_array_memory_size();
        self.buffer.push(batch);
        if self.buffered >= self.memory_bytes {
            self.spill_buffer()?;
        }
        Ok(())
    }

    /// The buffered rows' order as (batch, row) pairs: keys compared across batches, so the
    /// buffer is never concatenated or copied whole (output is gathered chunk by chunk).
    fn sorted_order(&self) -> Result<Vec<(usize, usize)>, MaintenanceError> {
        let rows: Vec<Rows> = self
            .buffer
            .iter()
            .map(|b| self.encoder.rows(b))
            .collect::<Result<_, _>>()?;
        let mut order: Vec<(usize, usize)> = self
            .buffer
            .iter()
            .enumerate()
            .flat_map(|(b, batch)| (0..batch.num_rows()).map(move |r| (b, r)))
            .collect();
        order.sort_by(|x, y| rows[x.0].row(x.1).cmp(&rows[y.0].row(y.1)));
        Ok(order)
    }

    /// The buffered rows, sorted, in batches of `rows` gathered one at a time.
    fn sorted_chunks<'a>(
        &'a self,
        order: &'a [(usize, usize)],
        rows: usize,
    ) -> impl Iterator<Item = Result<RecordBatch, MaintenanceError>> + 'a {
        let refs: Vec<&RecordBatch> = self.buffer.iter().collect();
        order
            .chunks(rows)
            .map(move |chunk| interleave_record_batch(&refs, chunk).map_err(arrow_err))
    }

    /// Sorts the buffer and writes it as a run to the temporary directory.
    fn spill_buffer(&mut self) -> Result<(), MaintenanceError> {
        let order = self.sorted_order()?;
        let dir = match &self.spill_dir {
            Some(d) => d.clone(),
            None => {
                let d = std::env::temp_dir().join(format!("floe-sort-{}", uuid::Uuid::now_v7()));
                std::fs::create_dir_all(&d).map_err(|e| io_err("create dir", e))?;
                self.spill_dir = Some(d.clone());
                d
            }
        };
        let path = dir.join(format!("run-{:05}.arrow", self.runs.len()));
        let file = File::create(&path).map_err(|e| io_err("create run", e))?;
        let mut w = StreamWriter::try_new(BufWriter::new(file), &self.schema).map_err(arrow_err)?;
        for chunk in self.sorted_chunks(&order, MERGE_BATCH_ROWS) {
            w.write(&chunk?).map_err(arrow_err)?;
        }
        w.finish().map_err(arrow_err)?;
        self.runs.push(path);
        self.buffer.clear();
        self.buffered = 0;
        Ok(())
    }

    /// Writes every row, sorted, into `sink` (merging the spilled runs), then removes them.
    pub async fn finish(mut self, sink: &mut DataFileSink) -> Result<(), MaintenanceError> {
        let result = self.finish_into(sink).await;
        if let Some(dir) = &self.spill_dir {
            let _ = std::fs::remove_dir_all(dir);
        }
        result
    }

    async fn finish_into(&mut self, sink: &mut DataFileSink) -> Result<(), MaintenanceError> {
        if self.runs.is_empty() {
            // Everything fit in memory: gather and write the sorted rows chunk by chunk.
            let order = self.sorted_order()?;
            for batch in self.sorted_chunks(&order, MERGE_BATCH_ROWS * 8) {
                sink.write(batch?).await?;
            }
            return Ok(());
        }
        if !self.buffer.is_empty() {
            self.spill_buffer()?;
        }
        self.merge(sink).await
    }

    /// k-way merge of the runs: each step takes the smallest current row among the runs.
    async fn merge(&mut self, sink: &mut DataFileSink) -> Result<(), MaintenanceError> {
        let mut cursors = Vec::with_capacity(self.runs.len());
        for path in &self.runs {
            let file = File::open(path).map_err(|e| io_err("open run", e))?;
            let reader = StreamReader::try_new(BufReader::new(file), None).map_err(arrow_err)?;
            if let Some(c) = Cursor::open(reader, &self.encoder)? {
                cursors.push(c);
            }
        }
        // Output rows as (batch in `pool`, row); a cursor's batch enters the pool when it is
        // first used and leaves after the next flush.
        let mut pool: Vec<RecordBatch> = Vec::new();
        let mut slot: Vec<Option<usize>> = vec![None; cursors.len()];
        let mut picks: Vec<(usize, usize)> = Vec::with_capacity(MERGE_BATCH_ROWS);
        loop {
            let mut best: Option<usize> = None;
            for (i, c) in cursors.iter().enumerate() {
                if c.done() {
                    continue;
                }
                if best.is_none_or(|b| c.row() < cursors[b].row()) {
                    best = Some(i);
                }
            }
            let Some(i) = best else { break };
            let p = *slot[i].get_or_insert_with(|| {
                pool.push(cursors[i].batch.clone());
                pool.len() - 1
            });
            picks.push((p, cursors[i].pos));
            if cursors[i].advance(&self.encoder)? {
                slot[i] = None; // a new batch: it enters the pool when used
            }
            if picks.len() == MERGE_BATCH_ROWS {
                flush(&mut pool, &mut picks, &mut slot, sink).await?;
            }
        }
        flush(&mut pool, &mut picks, &mut slot, sink).await
    }
}

async fn flush(
    pool: &mut Vec<RecordBatch>,
    picks: &mut Vec<(usize, usize)>,
    slot: &mut [Option<usize>],
    sink: &mut DataFileSink,
) -> Result<(), MaintenanceError> {
    if picks.is_empty() {
        return Ok(());
    }
    let refs: Vec<&RecordBatch> = pool.iter().collect();
    let out = interleave_record_batch(&refs, picks).map_err(arrow_err)?;
    picks.clear();
    pool.clear();
    slot.iter_mut().for_each(|s| *s = None);
    sink.write(out).await?;
    Ok(())
}

/// A spilled run being merged: its current batch, that batch's keys and the position in it.
struct Cursor {
    reader: StreamReader<BufReader<File>>,
    batch: RecordBatch,
    rows: Rows,
    pos: usize,
}

impl Cursor {
    fn open(
        mut reader: StreamReader<BufReader<File>>,
        encoder: &KeyEncoder,
    ) -> Result<Option<Self>, MaintenanceError> {
        match reader.next().transpose().map_err(arrow_err)? {
            Some(batch) => {
                let rows = encoder.rows(&batch)?;
                Ok(Some(Self {
                    reader,
                    batch,
                    rows,
                    pos: 0,
                }))
            }
            None => Ok(None),
        }
    }

    fn done(&self) -> bool {
        self.pos >= self.batch.num_rows()
    }

    fn row(&self) -> arrow::row::Row<'_> {
        self.rows.row(self.pos)
    }

    /// Moves to the next row; true when that loaded the run's next batch.
    fn advance(&mut self, encoder: &KeyEncoder) -> Result<bool, MaintenanceError> {
        self.pos += 1;
        if self.pos < self.batch.num_rows() {
            return Ok(false);
        }
        match self.reader.next().transpose().map_err(arrow_err)? {
            Some(batch) => {
                self.rows = encoder.rows(&batch)?;
                self.batch = batch;
                self.pos = 0;
                Ok(true)
            }
            None => Ok(false),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sort_orders_parse_as_spark_writes_them() {
        assert_eq!(
            SortKey::parse("country ASC NULLS FIRST, ts desc").unwrap(),
            SortKey::Columns(vec![
                SortColumn {
                    name: "country".into(),
                    descending: false,
                    nulls_first: true
                },
                SortColumn {
                    name: "ts".into(),
                    descending: true,
                    nulls_first: false
                },
            ])
        );
        assert_eq!(
            SortKey::parse("zorder(lat, lon)").unwrap(),
            SortKey::ZOrder(vec!["lat".into(), "lon".into()])
        );
        assert!(SortKey::parse("a SIDEWAYS").is_err());
        assert!(SortKey::parse("zorder(a, )").is_err());
    }

    #[test]
    fn zorder_interleaves_order_preserving_images() {
        use arrow_array::Int64Array;
        // (x, y) in 0..4 x 0..4: z-order visits (0,0) (0,1) (1,0) (1,1) (0,2) ...
        let xs: Vec<i64> = (0..16).map(|i| i / 4).collect();
        let ys: Vec<i64> = (0..16).map(|i| i % 4).collect();
        let key = zorder_key(&[
            Arc::new(Int64Array::from(xs.clone())) as ArrayRef,
            Arc::new(Int64Array::from(ys.clone())) as ArrayRef,
        ])
        .unwrap();
        let mut order: Vec<usize> = (0..16).collect();
        order.sort_by_key(|&i| key.value(i).to_vec());
        let visited: Vec<(i64, i64)> = order.iter().map(|&i| (xs[i], ys[i])).collect();
        assert_eq!(&visited[..5], &[(0, 0), (0, 1), (1, 0), (1, 1), (0, 2)]);
        // Negative numbers sort below positive ones.
        let neg = zorder_key(&[Arc::new(Int64Array::from(vec![-1, 1])) as ArrayRef]).unwrap();
        assert!(neg.value(0) < neg.value(1));
    }
}

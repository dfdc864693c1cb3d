//! CSV records for the typed fast path. Records are split by csv-core exactly as arrow-csv splits
//! them (same reader settings, same field-count and UTF-8 errors, which send the batch to
//! row-level recovery); then each column is built straight into its table type when every value
//! of the batch parses exactly ([`crate::exact_parse`]), else as text for the conformer to cast,
//! check and quarantine row by row as before. The batch's text stays with it
//! ([`RecordTexts`]): a quarantined row shows its values as written.

use std::sync::Arc;

use arrow_array::builder::StringBuilder;
use arrow_array::{ArrayRef, RecordBatch, RecordBatchOptions};
use arrow_schema::{ArrowError, DataType, Field, Schema};

use crate::spec::CsvOptions;

/// What a CSV column is built as.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Target {
    /// Text; the conformer casts and checks it.
    Text,
    /// Straight into this Arrow type when every value of the batch parses exactly.
    Typed(DataType),
}

impl Target {
    /// The fast target for a column of `data_type` whose text needs no parse options.
    pub(crate) fn for_type(data_type: &DataType) -> Self {
        if crate::exact_parse::covers(data_type) {
            Target::Typed(data_type.clone())
        } else {
            Target::Text
        }
    }
}

/// Which field texts are null: the spec's `null_values`, else the empty field (arrow-csv's rule).
#[derive(Debug, Clone, Default)]
pub(crate) struct NullRule(Vec<String>);

impl NullRule {
    pub(crate) fn new(opts: &CsvOptions) -> Self {
        Self(opts.null_values.clone())
    }

    fn is_null(&self, s: &str) -> bool {
        if self.0.is_empty() {
            s.is_empty()
        } else {
            self.0.iter().any(|v| v == s)
        }
    }
}

/// The fields of a batch of records, as text, held with the batch for quarantine.
#[derive(Debug)]
pub struct RecordTexts {
    data: String,
    /// Field ends, `rows × columns + 1`, the first 0.
    offsets: Vec<usize>,
    columns: usize,
    rows: usize,
}

impl RecordTexts {
    /// The text of field `col` of record `row` (0-based within the batch).
    pub fn field(&self, row: usize, col: usize) -> &str {
        let i = row * self.columns + col;
        &self.data[self.offsets[i]..self.offsets[i + 1]]
    }
}

const INITIAL_DATA_BYTES: usize = 64 << 10;
const MIN_CAPACITY: usize = 1024;

/// Splits CSV bytes into records with csv-core, up to `batch_rows` per batch (arrow-csv's record
/// decoder, keeping the text for the typed builders). Its buffers are reused batch after batch.
pub(super) struct CsvRecords {
    reader: csv_core::Reader,
    columns: usize,
    batch_rows: usize,
    line: usize,
    offsets: Vec<usize>,
    offsets_len: usize,
    current_field: usize,
    rows: usize,
    data: Vec<u8>,
    data_len: usize,
}

impl CsvRecords {
    pub(super) fn new(opts: &CsvOptions, columns: usize, batch_rows: usize) -> Self {
        Self {
            reader: super::csv_recovery::core_reader(opts),
            columns,
            batch_rows,
            line: 1,
            offsets: Vec::new(),
            offsets_len: 1,
            current_field: 0,
            rows: 0,
            data: Vec::new(),
            data_len: 0,
        }
    }

    /// Records that fit before the batch is full.
    pub(super) fn capacity(&self) -> usize {
        self.batch_rows - self.rows
    }

    /// Reads records out of `input` until it is used up or the batch is full; returns the bytes
    /// consumed. An empty `input` ends the last record. Errs on a record with another number of
    /// fields than the header.
    pub(super) fn decode(&mut self, input: &[u8]) -> Result<usize, ArrowError> {
        let to_read = self.capacity();
        if to_read == 0 {
            return Ok(0);
        }
        let mut consumed = 0;
        let mut read = 0;
        loop {
            // Buffers grow as records need them (and are kept for the next batch), so a small
            // object touches little memory: room for the rest of this record's field ends, plus
            // one to tell a record with too many fields.
            let ends_end =
                self.offsets_len + (self.columns - self.current_field.min(self.columns)) + 1;
            if self.offsets.len() < ends_end {
                let len = ends_end.max(self.offsets.len() * 2);
                self.offsets.resize(len, 0);
            }
            if self.data.len() < self.data_len + MIN_CAPACITY {
                self.grow_data();
            }
            let (result, bytes_read, bytes_written, ends) = self.reader.read_record(
                &input[consumed..],
                &mut self.data[self.data_len..],
                &mut self.offsets[self.offsets_len..ends_end],
            );
            self.current_field += ends;
            self.offsets_len += ends;
            consumed += bytes_read;
            self.data_len += bytes_written;
            match result {
                csv_core::ReadRecordResult::End | csv_core::ReadRecordResult::InputEmpty => {
                    return Ok(consumed)
                }
                csv_core::ReadRecordResult::OutputFull => self.grow_data(),
                csv_core::ReadRecordResult::OutputEndsFull => {
                    return Err(self.field_count_error(format!("more than {}", self.current_field)))
                }
                csv_core::ReadRecordResult::Record => {
                    if self.current_field != self.columns {
                        return Err(self.field_count_error(self.current_field.to_string()));
                    }
                    read += 1;
                    self.current_field = 0;
                    self.line += 1;
                    self.rows += 1;
                    if read == to_read || consumed == input.len() {
                        return Ok(consumed);
                    }
                }
            }
        }
    }

    fn grow_data(&mut self) {
        let len = (self.data.len() * 2).max(INITIAL_DATA_BYTES);
        self.data.resize(len, 0);
    }

    fn field_count_error(&self, got: String) -> ArrowError {
        ArrowError::CsvError(format!(
            "incorrect number of fields for line {}, expected {} got {got}",
            self.line, self.columns
        ))
    }

    /// The records read so far, as text (`None`: none); errs part way through a record or on
    /// invalid UTF-8.
    pub(super) fn flush(&mut self) -> Result<Option<RecordTexts>, ArrowError> {
        if self.rows == 0 {
            return Ok(None);
        }
        if self.current_field != 0 {
            return Err(ArrowError::CsvError(
                "Cannot flush part way through record".into(),
            ));
        }
        // csv-core's field ends are relative to their record: make them absolute.
        let mut row_start = 0usize;
        for row in self.offsets[1..self.offsets_len].chunks_exact_mut(self.columns) {
            for end in row.iter_mut() {
                *end += row_start;
            }
            row_start = row[self.columns - 1];
        }
        let data = std::str::from_utf8(&self.data[..self.data_len]).map_err(|e| {
            ArrowError::CsvError(format!(
                "Encountered invalid UTF-8 data after byte {}",
                e.valid_up_to()
            ))
        })?;
        // Each field must be valid on its own: halves of a character on both sides of a
        // delimiter join into a valid whole once the delimiter is dropped.
        let offsets = &self.offsets[..self.offsets_len];
        if let Some(i) = offsets.iter().position(|&o| !data.is_char_boundary(o)) {
            return Err(ArrowError::CsvError(format!(
                "Encountered invalid UTF-8 data in field {} of a record",
                i % self.columns.max(1) + 1
            )));
        }
        let texts = RecordTexts {
            data: data.to_string(),
            offsets: offsets.to_vec(),
            columns: self.columns,
            rows: self.rows,
        };
        self.offsets_len = 1;
        self.data_len = 0;
        self.rows = 0;
        Ok(Some(texts))
    }
}

/// Builds the batch of `texts`: each column as its target when every value parses exactly,
/// else as text. Returns the batch and how many columns were built typed.
pub(super) fn build_batch(
    texts: &RecordTexts,
    names: &[String],
    targets: &[Target],
    nulls: &NullRule,
) -> Result<(RecordBatch, usize), ArrowError> {
    let mut fields = Vec::with_capacity(names.len());
    let mut columns = Vec::with_capacity(names.len());
    let mut typed = 0;
    for (col, name) in names.iter().enumerate() {
        let built = match targets.get(col) {
            Some(Target::Typed(t)) => crate::exact_parse::parse_column(
                texts.rows,
                |row| Some(texts.field(row, col)).filter(|s| !nulls.is_null(s)),
                t,
            ),
            _ => None,
        };
        let array = match built {
            Some(a) => {
                typed += 1;
                a
            }
            None => text_column(texts, col, nulls),
        };
        fields.push(Field::new(name, array.data_type().clone(), true));
        columns.push(array);
    }
    let batch = RecordBatch::try_new_with_options(
        Arc::new(Schema::new(fields)),
        columns,
        &RecordBatchOptions::new().with_row_count(Some(texts.rows)),
    )?;
    Ok((batch, typed))
}

fn text_column(texts: &RecordTexts, col: usize, nulls: &NullRule) -> ArrayRef {
    let mut b = StringBuilder::with_capacity(texts.rows, texts.data.len() / texts.columns.max(1));
    for row in 0..texts.rows {
        let s = texts.field(row, col);
        if nulls.is_null(s) {
            b.append_null();
        } else {
            b.append_value(s);
        }
    }
    Arc::new(b.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::Array;

    #[test]
    fn records_split_as_arrow_csv_splits_them() {
        let opts = CsvOptions::default();
        let input = b"1,\"a,b\",x\r\n2,\"say \"\"hi\"\"\",\n3,,z";
        let mut r = CsvRecords::new(&opts, 3, 2);
        let n = r.decode(input).unwrap();
        assert_eq!(r.capacity(), 0);
        let texts = r.flush().unwrap().unwrap();
        assert_eq!(texts.field(0, 1), "a,b");
        assert_eq!(texts.field(1, 1), "say \"hi\"");
        assert_eq!(texts.field(1, 2), "");
        let m = r.decode(&input[n..]).unwrap();
        assert_eq!(n + m, input.len());
        r.decode(&[]).unwrap();
        let last = r.flush().unwrap().unwrap();
        assert_eq!((last.field(0, 0), last.field(0, 2)), ("3", "z"));
        let (batch, typed) = build_batch(
            &last,
            &["id".into(), "s".into(), "t".into()],
            &[
                Target::for_type(&DataType::Int64),
                Target::Text,
                Target::Text,
            ],
            &NullRule::default(),
        )
        .unwrap();
        assert_eq!(typed, 1);
        assert_eq!(batch.column(0).data_type(), &DataType::Int64);
        assert!(batch.column(1).is_null(0), "an empty field is null");
        // A character split by a delimiter is invalid in both fields, though the bytes joined are not.
        let mut split = CsvRecords::new(&opts, 3, 8);
        split.decode(b"a,\xC3,\xA9\n").unwrap();
        assert!(split.flush().is_err(), "a field that is half a character");
        for bad in [&b"1,2\n"[..], b"1,2,3\n4,5,6,7\n", b"1,2,3\n4,5,6,7,8,9\n"] {
            let mut ragged = CsvRecords::new(&opts, 3, 8);
            let err = ragged.decode(bad).unwrap_err().to_string();
            assert!(err.contains("incorrect number of fields"), "{err}");
        }
    }

    #[test]
    fn long_fields_grow_the_buffer_and_one_inexact_value_builds_its_column_as_text() {
        let long = "x".repeat(5000);
        let input = format!("1.25,{long}\n7.125,{long}\n");
        let mut r = CsvRecords::new(&CsvOptions::default(), 2, 10);
        assert_eq!(r.decode(input.as_bytes()).unwrap(), input.len());
        let texts = r.flush().unwrap().unwrap();
        assert_eq!(texts.field(1, 1), long);
        let (batch, typed) = build_batch(
            &texts,
            &["amount".into(), "s".into()],
            &[Target::for_type(&DataType::Decimal128(12, 2)), Target::Text],
            &NullRule::default(),
        )
        .unwrap();
        assert_eq!(typed, 0);
        assert_eq!(batch.column(0).data_type(), &DataType::Utf8);
        assert_eq!(texts.field(1, 0), "7.125");
    }
}

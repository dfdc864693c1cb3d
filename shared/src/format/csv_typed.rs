//! The typed CSV fast path. Records are split by csv-core exactly as arrow-csv splits them (same
//! reader settings, same field-count and UTF-8 errors, which send the batch to row-level
//! recovery), and each column is built straight into its table type when every value of the batch
//! parses *exactly*: the value arrow's cast would give, with nothing the exactness checks
//! (`crate::exact`) would flag. A column with one value that does not is built as text instead,
//! and the conformer casts, checks and quarantines it row by row as before — so the fast path
//! changes no result, only the cost of the common case (no string column, no second parse).
//! The batch's text stays with it: a quarantined row shows its values as written.

use std::sync::Arc;

use arrow::compute::kernels::cast::cast_single_string_to_boolean_default;
use arrow::compute::kernels::cast_utils::Parser;
use arrow_array::builder::{NullBufferBuilder, StringBuilder};
use arrow_array::types::{
    ArrowPrimitiveType, Date32Type, Decimal128Type, Float32Type, Float64Type, Int16Type,
    Int32Type, Int64Type, Int8Type, TimestampMicrosecondType, TimestampMillisecondType,
    TimestampNanosecondType, TimestampSecondType,
};
use arrow_array::{ArrayRef, PrimitiveArray, RecordBatch};
use arrow_schema::{ArrowError, DataType, Field, Schema, TimeUnit};
use chrono::{NaiveDate, NaiveTime};

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
    /// The fast target for a column of `data_type` whose text needs no options (formats, epoch,
    /// nested JSON) to parse: the types the exact parsers below cover, else text.
    pub(crate) fn for_type(data_type: &DataType) -> Self {
        let covered = match data_type {
            DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::Float32
            | DataType::Float64
            | DataType::Boolean
            | DataType::Date32 => true,
            DataType::Decimal128(_, scale) => *scale >= 0,
            DataType::Timestamp(_, tz) => tz.as_deref().is_none_or(is_utc),
            _ => false,
        };
        if covered {
            Target::Typed(data_type.clone())
        } else {
            Target::Text
        }
    }
}

fn is_utc(tz: &str) -> bool {
    matches!(tz, "UTC" | "+00:00" | "Z" | "utc")
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

    fn rows(&self) -> usize {
        self.rows
    }
}

const AVERAGE_FIELD_SIZE: usize = 8;
const MIN_CAPACITY: usize = 1024;

/// Splits CSV bytes into records with csv-core, up to `batch_rows` per batch (arrow-csv's record
/// decoder, keeping the text for the typed builders).
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
        let mut b = csv_core::ReaderBuilder::new();
        b.escape(opts.escape.map(|c| c as u8));
        b.delimiter(opts.delimiter as u8);
        b.quote(opts.quote as u8);
        Self {
            reader: b.build(),
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
        self.offsets
            .resize(self.offsets_len + to_read * self.columns, 0);
        let mut consumed = 0;
        let mut read = 0;
        loop {
            let estimate = ((to_read - read) * self.columns * AVERAGE_FIELD_SIZE).max(MIN_CAPACITY);
            self.data.resize(self.data_len + estimate, 0);
            loop {
                let (result, bytes_read, bytes_written, ends) = self.reader.read_record(
                    &input[consumed..],
                    &mut self.data[self.data_len..],
                    &mut self.offsets[self.offsets_len..],
                );
                self.current_field += ends;
                self.offsets_len += ends;
                consumed += bytes_read;
                self.data_len += bytes_written;
                match result {
                    csv_core::ReadRecordResult::End | csv_core::ReadRecordResult::InputEmpty => {
                        return Ok(consumed)
                    }
                    csv_core::ReadRecordResult::OutputFull => break,
                    csv_core::ReadRecordResult::OutputEndsFull => {
                        return Err(self.field_count_error(format!(
                            "more than {}",
                            self.current_field
                        )))
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
        let mut data = std::mem::take(&mut self.data);
        data.truncate(self.data_len);
        let data = String::from_utf8(data).map_err(|e| {
            ArrowError::CsvError(format!(
                "Encountered invalid UTF-8 data after byte {}",
                e.utf8_error().valid_up_to()
            ))
        })?;
        let mut offsets = self.offsets[..self.offsets_len].to_vec();
        offsets.shrink_to_fit();
        let texts = RecordTexts {
            data,
            offsets,
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
            Some(Target::Typed(t)) => typed_column(texts, col, t, nulls),
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
        &arrow_array::RecordBatchOptions::new().with_row_count(Some(texts.rows())),
    )?;
    Ok((batch, typed))
}

fn text_column(texts: &RecordTexts, col: usize, nulls: &NullRule) -> ArrayRef {
    let mut b = StringBuilder::with_capacity(texts.rows(), texts.data.len() / texts.columns.max(1));
    for row in 0..texts.rows() {
        let s = texts.field(row, col);
        if nulls.is_null(s) {
            b.append_null();
        } else {
            b.append_value(s);
        }
    }
    Arc::new(b.finish())
}

/// `col` as `target`, or `None` if some value does not parse exactly.
fn typed_column(
    texts: &RecordTexts,
    col: usize,
    target: &DataType,
    nulls: &NullRule,
) -> Option<ArrayRef> {
    Some(match target {
        DataType::Int8 => Arc::new(primitive::<Int8Type>(texts, col, nulls, Int8Type::parse)?),
        DataType::Int16 => Arc::new(primitive::<Int16Type>(texts, col, nulls, Int16Type::parse)?),
        DataType::Int32 => Arc::new(primitive::<Int32Type>(texts, col, nulls, Int32Type::parse)?),
        DataType::Int64 => Arc::new(primitive::<Int64Type>(texts, col, nulls, Int64Type::parse)?),
        DataType::Float32 => Arc::new(primitive::<Float32Type>(texts, col, nulls, |s| {
            let v = Float32Type::parse(s)?;
            float_exact(s, f64::from(v)).then_some(v)
        })?),
        DataType::Float64 => Arc::new(primitive::<Float64Type>(texts, col, nulls, |s| {
            let v = Float64Type::parse(s)?;
            float_exact(s, v).then_some(v)
        })?),
        DataType::Date32 => Arc::new(primitive::<Date32Type>(texts, col, nulls, Date32Type::parse)?),
        DataType::Boolean => boolean(texts, col, nulls)?,
        DataType::Decimal128(precision, scale) => {
            let (precision, scale) = (*precision, *scale);
            let a = primitive::<Decimal128Type>(texts, col, nulls, |s| {
                decimal_exact(s, precision, scale)
            })?;
            Arc::new(a.with_data_type(target.clone()))
        }
        DataType::Timestamp(unit, tz) => {
            let utc = tz.is_some();
            let unit = *unit;
            let parse = move |s: &str| timestamp_exact(s, unit, utc);
            let a: ArrayRef = match unit {
                TimeUnit::Second => Arc::new(
                    primitive::<TimestampSecondType>(texts, col, nulls, parse)?
                        .with_data_type(target.clone()),
                ),
                TimeUnit::Millisecond => Arc::new(
                    primitive::<TimestampMillisecondType>(texts, col, nulls, parse)?
                        .with_data_type(target.clone()),
                ),
                TimeUnit::Microsecond => Arc::new(
                    primitive::<TimestampMicrosecondType>(texts, col, nulls, parse)?
                        .with_data_type(target.clone()),
                ),
                TimeUnit::Nanosecond => Arc::new(
                    primitive::<TimestampNanosecondType>(texts, col, nulls, parse)?
                        .with_data_type(target.clone()),
                ),
            };
            a
        }
        _ => return None,
    })
}

fn primitive<T: ArrowPrimitiveType>(
    texts: &RecordTexts,
    col: usize,
    nulls: &NullRule,
    parse: impl Fn(&str) -> Option<T::Native>,
) -> Option<PrimitiveArray<T>> {
    let rows = texts.rows();
    let mut values = Vec::with_capacity(rows);
    let mut valid = NullBufferBuilder::new(rows);
    for row in 0..rows {
        let s = texts.field(row, col);
        if nulls.is_null(s) {
            values.push(T::Native::default());
            valid.append_null();
        } else {
            values.push(parse(s)?);
            valid.append_non_null();
        }
    }
    Some(PrimitiveArray::new(values.into(), valid.finish()))
}

fn boolean(texts: &RecordTexts, col: usize, nulls: &NullRule) -> Option<ArrayRef> {
    let mut b = arrow_array::builder::BooleanBuilder::with_capacity(texts.rows());
    for row in 0..texts.rows() {
        let s = texts.field(row, col);
        if nulls.is_null(s) {
            b.append_null();
            continue;
        }
        let v = match s {
            "true" => true,
            "false" => false,
            other => cast_single_string_to_boolean_default(other)?,
        };
        b.append_value(v);
    }
    Some(Arc::new(b.finish()))
}

/// Whether a float parsed from `s` holds what it says: not overflowed to infinity (unless it
/// says so) and not underflowed to zero (the exactness checks' float rule).
fn float_exact(s: &str, v: f64) -> bool {
    crate::exact::float_text_loss(s, v, &DataType::Float64).is_none()
}

/// Plain decimal text (`-?digits[.digits]`, no more fraction digits than `scale`, no more
/// integer digits than `precision - scale`) as the unscaled value; anything else `None`.
pub(crate) fn decimal_exact(s: &str, precision: u8, scale: i8) -> Option<i128> {
    let scale = usize::try_from(scale).ok()?;
    let b = s.as_bytes();
    let (negative, digits) = match b.first()? {
        b'-' => (true, &b[1..]),
        _ => (false, b),
    };
    let (int, frac) = match digits.iter().position(|&c| c == b'.') {
        Some(i) => (&digits[..i], Some(&digits[i + 1..])),
        None => (digits, None),
    };
    let frac = match frac {
        Some([]) => return None,
        Some(f) => f,
        None => &[][..],
    };
    if int.is_empty() || frac.len() > scale || int.len() + scale > usize::from(precision) {
        return None;
    }
    let mut v: i128 = 0;
    for &c in int.iter().chain(frac) {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + i128::from(c - b'0');
    }
    for _ in frac.len()..scale {
        v *= 10;
    }
    Some(if negative { -v } else { v })
}

fn two(b: &[u8], at: usize) -> Option<u32> {
    let (h, l) = (*b.get(at)?, *b.get(at + 1)?);
    (h.is_ascii_digit() && l.is_ascii_digit()).then(|| u32::from(h - b'0') * 10 + u32::from(l - b'0'))
}

/// ISO timestamp text (`YYYY-MM-DD[T ]HH:MM:SS[.fraction][Z|±HH:MM]`) as a value of `unit`,
/// when it is stored exactly: no more fraction digits than the unit keeps, no leap second, and
/// for a column without time zone (`utc == false`) no offset other than zero. Else `None`.
pub(crate) fn timestamp_exact(s: &str, unit: TimeUnit, utc: bool) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 19
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let year = i32::try_from(two(b, 0)? * 100 + two(b, 2)?).ok()?;
    let date = NaiveDate::from_ymd_opt(year, two(b, 5)?, two(b, 8)?)?;
    let (hour, minute, second) = (two(b, 11)?, two(b, 14)?, two(b, 17)?);
    let mut rest = &b[19..];
    let mut nanos = 0u32;
    if let Some(frac) = rest.strip_prefix(b".") {
        let n = frac.iter().take_while(|c| c.is_ascii_digit()).count();
        let keep = match unit {
            TimeUnit::Second => 0,
            TimeUnit::Millisecond => 3,
            TimeUnit::Microsecond => 6,
            TimeUnit::Nanosecond => 9,
        };
        if n == 0 || n > keep {
            return None;
        }
        for (i, &c) in frac[..n].iter().enumerate() {
            nanos += u32::from(c - b'0') * 10u32.pow(8 - i as u32);
        }
        rest = &frac[n..];
    }
    let offset_secs: i64 = match rest {
        [] | [b'Z'] => 0,
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            let (h, m) = (two(rest, 1)?, two(rest, 4)?);
            if h > 23 || m > 59 {
                return None;
            }
            let secs = i64::from(h * 3600 + m * 60);
            if *sign == b'-' {
                -secs
            } else {
                secs
            }
        }
        _ => return None,
    };
    if offset_secs != 0 && !utc {
        return None;
    }
    // A second of 60 (leap second) is refused by `from_hms_nano_opt` with a fraction of at most
    // 999,999,999 ns: chrono's leap-second form needs nanos ≥ 1e9, which the text cannot give.
    if second > 59 {
        return None;
    }
    let time = NaiveTime::from_hms_nano_opt(hour, minute, second, nanos)?;
    let utc_time = date.and_time(time) - chrono::Duration::seconds(offset_secs);
    let t = utc_time.and_utc();
    match unit {
        TimeUnit::Second => Some(t.timestamp()),
        TimeUnit::Millisecond => Some(t.timestamp_millis()),
        TimeUnit::Microsecond => Some(t.timestamp_micros()),
        TimeUnit::Nanosecond => t.timestamp_nanos_opt(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::compute::{cast_with_options, CastOptions};
    use arrow_array::{Array, StringArray};

    /// The fast parse of `s` as `t`, as a one-value array (`None`: not exact, falls back).
    fn fast(s: &str, t: &DataType) -> Option<ArrayRef> {
        let texts = RecordTexts {
            data: s.to_string(),
            offsets: vec![0, s.len()],
            columns: 1,
            rows: 1,
        };
        typed_column(&texts, 0, t, &NullRule::default())
    }

    /// The slow path's answer: arrow's cast, and whether the exactness checks flag it.
    fn slow(s: &str, t: &DataType) -> (ArrayRef, bool) {
        let raw: ArrayRef = Arc::new(StringArray::from(vec![s]));
        let typed = cast_with_options(&raw, t, &CastOptions::default()).unwrap();
        let mut out = vec![None];
        crate::exact::flag_lossy("c", &raw, &typed, t, false, &mut out).unwrap();
        (typed, out[0].is_some())
    }

    #[test]
    fn fast_values_are_what_the_cast_gives_and_pass_the_exactness_checks() {
        let tz = DataType::Timestamp(TimeUnit::Microsecond, Some("+00:00".into()));
        let ntz = DataType::Timestamp(TimeUnit::Microsecond, None);
        let ns = DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into()));
        let dec = DataType::Decimal128(12, 2);
        let cases: Vec<(&DataType, &[&str])> = vec![
            (&DataType::Int64, &["0", "-7", "+7", "9223372036854775807", "9223372036854775808", "1.0", " 1", "1e3", "00012"]),
            (&DataType::Int32, &["2147483647", "2147483648", "-2147483648", "12x"]),
            (&DataType::Int16, &["32767", "32768"]),
            (&DataType::Float64, &["705.71", "-0.0", "0", "1e308", "1e400", "1e-400", "inf", "NaN", "0.1", "abc", "1.5E3", ".5"]),
            (&DataType::Float32, &["3.4e38", "3.5e38", "1e-50", "0.000"]),
            (&DataType::Boolean, &["true", "false", "TRUE", "yes", "0", "1", "on", "maybe", "f"]),
            (&DataType::Date32, &["2026-01-07", "2024-02-29", "2023-02-29", "2026-1-7", "20260107", "2026-01-07T00:00:00"]),
            (&dec, &["10585.65", "-0.5", "0", "-0", "1.5", "1.505", "1.500", "1234567890.12", "12345678901.2", "1e3", "+1", ".5", "1.", "00000000001.00", "1,5", "9999999999.99"]),
            (&tz, &["2026-01-07T05:50:27Z", "2026-01-07 05:50:27", "2026-01-07T05:50:27.123456Z", "2026-01-07T05:50:27.1234567Z",
                    "2026-01-07T05:50:27.1234560Z", "2026-01-07T05:50:27+02:00", "2026-01-07T05:50:27-05:30", "2026-12-31T23:59:60Z",
                    "2026-02-30T00:00:00Z", "2026-01-07T24:00:00Z", "2026-01-07", "2026-01-07T05:50Z", "0001-01-01T00:00:00Z",
                    "2026-01-07t05:50:27z", "2026-01-07T05:50:27.Z", "2026-01-07T05:50:27+0200"]),
            (&ntz, &["2026-01-07T05:50:27", "2026-01-07T05:50:27Z", "2026-01-07T05:50:27+00:00", "2026-01-07T05:50:27+01:00", "2026-01-07T05:50:27.5"]),
            (&ns, &["2026-01-07T05:50:27.123456789Z", "1600-01-01T00:00:00Z", "2026-01-07T05:50:27.1234567891Z"]),
        ];
        let mut fast_hits = 0;
        for (t, values) in cases {
            for s in values {
                let Some(f) = fast(s, t) else { continue };
                fast_hits += 1;
                let (cast, flagged) = slow(s, t);
                assert!(!flagged, "fast path took `{s}` as {t} but the checks flag it");
                assert_eq!(&f, &cast, "`{s}` as {t}: fast {f:?} vs cast {cast:?}");
                assert_eq!(f.data_type(), t);
                assert!(f.is_valid(0), "`{s}` parsed to null");
            }
        }
        assert!(fast_hits >= 45, "too few values took the fast path: {fast_hits}");
        // Values the fast path must decline (they go to the text path and its checks).
        for (s, t) in [
            ("2026-12-31T23:59:60Z", &tz),
            ("2026-01-07T05:50:27.1234567Z", &tz),
            ("2026-01-07T05:50:27+01:00", &ntz),
            ("1.505", &dec),
            ("1e400", &DataType::Float64),
            ("1e-400", &DataType::Float64),
            ("12345678901.2", &dec),
        ] {
            assert!(fast(s, t).is_none(), "`{s}` as {t} should fall back");
        }
    }

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
            &[Target::for_type(&DataType::Int64), Target::Text, Target::Text],
            &NullRule::default(),
        )
        .unwrap();
        assert_eq!(typed, 1);
        assert_eq!(batch.column(0).data_type(), &DataType::Int64);
        assert!(batch.column(1).is_null(0), "an empty field is null");
        let mut ragged = CsvRecords::new(&opts, 3, 8);
        assert!(ragged.decode(b"1,2\n").is_err());
    }

    #[test]
    fn one_inexact_value_builds_its_column_as_text() {
        let data = "1.25|7.125";
        let texts = RecordTexts {
            data: data.replace('|', ""),
            offsets: vec![0, 4, 9],
            columns: 1,
            rows: 2,
        };
        let (batch, typed) = build_batch(
            &texts,
            &["amount".into()],
            &[Target::for_type(&DataType::Decimal128(12, 2))],
            &NullRule::default(),
        )
        .unwrap();
        assert_eq!(typed, 0);
        assert_eq!(batch.column(0).data_type(), &DataType::Utf8);
        assert_eq!(texts.field(1, 0), "7.125");
    }
}

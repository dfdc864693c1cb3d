//! Exact text parsers: a column of text straight into its Arrow type when *every* value parses
//! to what arrow's cast gives and nothing the exactness checks ([`crate::exact`]) would flag —
//! else `None`, and the caller takes the cast-and-check path, which finds the bad rows. So a
//! parser here can only make the common case cheaper (one pass, no string column for CSV, no
//! re-scan of the text for loss); it never changes what is stored or quarantined. The unit tests
//! hold every parser to the cast and the checks on edge cases.

use std::sync::Arc;

use arrow::compute::kernels::cast::cast_single_string_to_boolean_default;
use arrow::compute::kernels::cast_utils::Parser;
use arrow_array::builder::{BooleanBuilder, NullBufferBuilder};
use arrow_array::types::{
    ArrowPrimitiveType, Date32Type, Decimal128Type, Float32Type, Float64Type, Int16Type, Int32Type,
    Int64Type, Int8Type, TimestampMicrosecondType, TimestampMillisecondType,
    TimestampNanosecondType, TimestampSecondType,
};
use arrow_array::{ArrayRef, PrimitiveArray};
use arrow_schema::{DataType, TimeUnit};
use chrono::{NaiveDate, NaiveTime};

/// Whether [`parse_column`] covers `data_type` (a timestamp with time zone only in UTC).
pub fn covers(data_type: &DataType) -> bool {
    match data_type {
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::Float32
        | DataType::Float64
        | DataType::Boolean
        | DataType::Date32 => true,
        DataType::Decimal128(_, scale) => *scale >= 0,
        DataType::Timestamp(_, tz) => tz
            .as_deref()
            .is_none_or(|tz| matches!(tz, "UTC" | "+00:00" | "Z" | "utc")),
        _ => false,
    }
}

/// `rows` values (`value(row)`: the text, `None` for null) as `target`, or `None` if some value
/// does not parse exactly (or `target` is not covered).
pub fn parse_column<'a>(
    rows: usize,
    value: impl Fn(usize) -> Option<&'a str>,
    target: &DataType,
) -> Option<ArrayRef> {
    if !covers(target) {
        return None;
    }
    // Decimals and timestamps carry precision, scale, unit and zone in the target type.
    fn typed<T: ArrowPrimitiveType>(a: PrimitiveArray<T>, target: &DataType) -> ArrayRef {
        Arc::new(a.with_data_type(target.clone()))
    }
    Some(match target {
        DataType::Int8 => typed(primitive::<Int8Type>(rows, value, Int8Type::parse)?, target),
        DataType::Int16 => typed(
            primitive::<Int16Type>(rows, value, Int16Type::parse)?,
            target,
        ),
        DataType::Int32 => typed(
            primitive::<Int32Type>(rows, value, Int32Type::parse)?,
            target,
        ),
        DataType::Int64 => typed(
            primitive::<Int64Type>(rows, value, Int64Type::parse)?,
            target,
        ),
        DataType::Float32 => {
            let parse = |s: &str| {
                let v = Float32Type::parse(s)?;
                float_exact(s, f64::from(v)).then_some(v)
            };
            typed(primitive::<Float32Type>(rows, value, parse)?, target)
        }
        DataType::Float64 => {
            let parse = |s: &str| {
                let v = Float64Type::parse(s)?;
                float_exact(s, v).then_some(v)
            };
            typed(primitive::<Float64Type>(rows, value, parse)?, target)
        }
        DataType::Date32 => typed(
            primitive::<Date32Type>(rows, value, Date32Type::parse)?,
            target,
        ),
        DataType::Boolean => boolean(rows, value)?,
        DataType::Decimal128(precision, scale) => {
            let (precision, scale) = (*precision, *scale);
            let parse = |s: &str| decimal_exact(s, precision, scale);
            typed(primitive::<Decimal128Type>(rows, value, parse)?, target)
        }
        DataType::Timestamp(unit, tz) => {
            let (unit, utc) = (*unit, tz.is_some());
            let parse = move |s: &str| timestamp_exact(s, unit, utc);
            match unit {
                TimeUnit::Second => typed(
                    primitive::<TimestampSecondType>(rows, value, parse)?,
                    target,
                ),
                TimeUnit::Millisecond => typed(
                    primitive::<TimestampMillisecondType>(rows, value, parse)?,
                    target,
                ),
                TimeUnit::Microsecond => typed(
                    primitive::<TimestampMicrosecondType>(rows, value, parse)?,
                    target,
                ),
                TimeUnit::Nanosecond => typed(
                    primitive::<TimestampNanosecondType>(rows, value, parse)?,
                    target,
                ),
            }
        }
        _ => return None,
    })
}

fn primitive<'a, T: ArrowPrimitiveType>(
    rows: usize,
    value: impl Fn(usize) -> Option<&'a str>,
    parse: impl Fn(&str) -> Option<T::Native>,
) -> Option<PrimitiveArray<T>> {
    let mut values = Vec::with_capacity(rows);
    let mut valid = NullBufferBuilder::new(rows);
    for row in 0..rows {
        match value(row) {
            None => {
                values.push(T::Native::default());
                valid.append_null();
            }
            Some(s) => {
                values.push(parse(s)?);
                valid.append_non_null();
            }
        }
    }
    Some(PrimitiveArray::new(values.into(), valid.finish()))
}

fn boolean<'a>(rows: usize, value: impl Fn(usize) -> Option<&'a str>) -> Option<ArrayRef> {
    let mut b = BooleanBuilder::with_capacity(rows);
    for row in 0..rows {
        match value(row) {
            None => b.append_null(),
            Some("true") => b.append_value(true),
            Some("false") => b.append_value(false),
            Some(other) => b.append_value(cast_single_string_to_boolean_default(other)?),
        }
    }
    Some(Arc::new(b.finish()))
}

/// Whether a float parsed from `s` holds what it says (the exactness checks' float rule).
fn float_exact(s: &str, v: f64) -> bool {
    crate::exact::float_text_loss(s, v, &DataType::Float64).is_none()
}

/// Plain decimal text (`-?digits[.digits]`, no more fraction digits than `scale`, no more
/// integer digits than `precision - scale`) as the unscaled value; anything else `None`.
pub fn decimal_exact(s: &str, precision: u8, scale: i8) -> Option<i128> {
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
    (h.is_ascii_digit() && l.is_ascii_digit())
        .then(|| u32::from(h - b'0') * 10 + u32::from(l - b'0'))
}

/// ISO timestamp text (`YYYY-MM-DD[T ]HH:MM:SS[.fraction][Z|±HH:MM]`) as a value of `unit`,
/// when it is stored exactly: no more fraction digits than the unit keeps, no leap second, and
/// for a column without time zone (`utc == false`) no offset other than zero. Else `None`.
pub fn timestamp_exact(s: &str, unit: TimeUnit, utc: bool) -> Option<i64> {
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
    // A leap second (second 60) is invalid in an Iceberg timestamp: the text path says so.
    if (offset_secs != 0 && !utc) || second > 59 {
        return None;
    }
    let time = NaiveTime::from_hms_nano_opt(hour, minute, second, nanos)?;
    let t = (date.and_time(time) - chrono::Duration::seconds(offset_secs)).and_utc();
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

    /// The fast parse of `s` as `t` (`None`: not exact, falls back).
    fn fast(s: &str, t: &DataType) -> Option<ArrayRef> {
        parse_column(1, |_| Some(s), t)
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
            (
                &DataType::Int64,
                &[
                    "0",
                    "-7",
                    "+7",
                    "9223372036854775807",
                    "9223372036854775808",
                    "1.0",
                    " 1",
                    "1e3",
                    "00012",
                ],
            ),
            (
                &DataType::Int32,
                &["2147483647", "2147483648", "-2147483648", "12x"],
            ),
            (&DataType::Int16, &["32767", "32768"]),
            (
                &DataType::Float64,
                &[
                    "705.71", "-0.0", "0", "1e308", "1e400", "1e-400", "inf", "NaN", "0.1", "abc",
                    "1.5E3", ".5",
                ],
            ),
            (&DataType::Float32, &["3.4e38", "3.5e38", "1e-50", "0.000"]),
            (
                &DataType::Boolean,
                &["true", "false", "TRUE", "yes", "0", "1", "on", "maybe", "f"],
            ),
            (
                &DataType::Date32,
                &[
                    "2026-01-07",
                    "2024-02-29",
                    "2023-02-29",
                    "2026-1-7",
                    "20260107",
                    "2026-01-07T00:00:00",
                ],
            ),
            (
                &dec,
                &[
                    "10585.65",
                    "-0.5",
                    "0",
                    "-0",
                    "1.5",
                    "1.505",
                    "1.500",
                    "1234567890.12",
                    "12345678901.2",
                    "1e3",
                    "+1",
                    ".5",
                    "1.",
                    "00000000001.00",
                    "1,5",
                    "9999999999.99",
                ],
            ),
            (
                &tz,
                &[
                    "2026-01-07T05:50:27Z",
                    "2026-01-07 05:50:27",
                    "2026-01-07T05:50:27.123456Z",
                    "2026-01-07T05:50:27.1234567Z",
                    "2026-01-07T05:50:27.1234560Z",
                    "2026-01-07T05:50:27+02:00",
                    "2026-01-07T05:50:27-05:30",
                    "2026-12-31T23:59:60Z",
                    "2026-02-30T00:00:00Z",
                    "2026-01-07T24:00:00Z",
                    "2026-01-07",
                    "2026-01-07T05:50Z",
                    "0001-01-01T00:00:00Z",
                    "2026-01-07t05:50:27z",
                    "2026-01-07T05:50:27.Z",
                    "2026-01-07T05:50:27+0200",
                ],
            ),
            (
                &ntz,
                &[
                    "2026-01-07T05:50:27",
                    "2026-01-07T05:50:27Z",
                    "2026-01-07T05:50:27+00:00",
                    "2026-01-07T05:50:27+01:00",
                    "2026-01-07T05:50:27.5",
                ],
            ),
            (
                &ns,
                &[
                    "2026-01-07T05:50:27.123456789Z",
                    "1600-01-01T00:00:00Z",
                    "2026-01-07T05:50:27.1234567891Z",
                ],
            ),
        ];
        let mut fast_hits = 0;
        for (t, values) in cases {
            for s in values {
                let Some(f) = fast(s, t) else { continue };
                fast_hits += 1;
                let (cast, flagged) = slow(s, t);
                assert!(
                    !flagged,
                    "fast path took `{s}` as {t} but the checks flag it"
                );
                assert_eq!(&f, &cast, "`{s}` as {t}: fast {f:?} vs cast {cast:?}");
                assert_eq!(f.data_type(), t);
                assert!(f.is_valid(0), "`{s}` parsed to null");
            }
        }
        assert!(
            fast_hits >= 45,
            "too few values took the fast path: {fast_hits}"
        );
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
    fn one_inexact_value_declines_the_whole_column() {
        let values = ["1.25", "7.125"];
        let dec = DataType::Decimal128(12, 2);
        assert!(parse_column(2, |i| Some(values[i]), &dec).is_none());
        let nulls = parse_column(2, |i| (i == 0).then_some(values[0]), &dec).unwrap();
        assert_eq!((nulls.len(), nulls.null_count()), (2, 1));
        assert!(!covers(&DataType::Utf8));
        assert!(parse_column(1, |_| Some("x"), &DataType::Utf8).is_none());
    }
}

//! Exactness checks after a cast: a value is stored exactly or its row is set aside with
//! `lossy_value` (or `invalid_type` for values the column's type cannot hold at all, like a leap
//! second). Arrow's casts round decimals, overflow doubles to infinity, truncate floats into
//! integers and sub-microsecond digits, and move offset timestamps to UTC; each is caught here.

use std::sync::LazyLock;

use arrow::compute::kernels::cmp::neq;
use arrow::compute::{cast_with_options, CastOptions};
use arrow_array::cast::AsArray;
use arrow_array::types::{Float32Type, Float64Type};
use arrow_array::{Array, ArrayRef, BooleanArray};
use arrow_schema::{ArrowError, DataType, TimeUnit};
use regex::Regex;

use crate::violation::{ErrorCode, Violation};

/// Flags rows of `typed` that do not hold exactly what `raw` said.
pub fn flag_lossy(
    column: &str,
    raw: &ArrayRef,
    typed: &ArrayRef,
    target: &DataType,
    round_decimals: bool,
    out: &mut [Option<Violation>],
) -> Result<(), ArrowError> {
    let flag = |out: &mut [Option<Violation>], i: usize, code: ErrorCode, message: String| {
        if out[i].is_none() {
            out[i] = Some(Violation {
                field: column.to_string(),
                code,
                message,
            });
        }
    };
    if raw.data_type() == &DataType::Utf8 {
        let text = raw.as_string::<i32>();
        for i in 0..text.len() {
            if out[i].is_some() || text.is_null(i) || typed.is_null(i) {
                continue;
            }
            let s = text.value(i);
            if let Some((code, why)) = text_loss(s, typed, i, target, round_decimals) {
                flag(
                    out,
                    i,
                    code,
                    format!("`{}` {why}", crate::violation::shorten(s.to_string())),
                );
            }
        }
        return Ok(());
    }
    if !round_trips(raw.data_type(), target, round_decimals) {
        return Ok(());
    }
    // Numbers and times from typed input (Parquet): cast back and compare.
    let back = cast_with_options(typed, raw.data_type(), &CastOptions::default())?;
    let differs: BooleanArray = neq(&back, raw)?;
    if differs.true_count() == 0 {
        return Ok(());
    }
    let fmt = arrow::util::display::ArrayFormatter::try_new(
        raw.as_ref(),
        &arrow::util::display::FormatOptions::default(),
    )?;
    for i in 0..differs.len() {
        if differs.is_valid(i) && differs.value(i) && raw.is_valid(i) {
            flag(
                out,
                i,
                ErrorCode::LossyValue,
                format!(
                    "`{}` ({}) cannot be stored exactly as {target}",
                    fmt.value(i),
                    raw.data_type()
                ),
            );
        }
    }
    Ok(())
}

/// Source → target pairs whose exactness a cast back can prove.
fn round_trips(from: &DataType, to: &DataType, round_decimals: bool) -> bool {
    let numeric = |t: &DataType| {
        t.is_numeric() && !matches!(t, DataType::Float16) || matches!(t, DataType::Decimal128(..))
    };
    let temporal = |t: &DataType| {
        matches!(
            t,
            DataType::Timestamp(..) | DataType::Time64(_) | DataType::Time32(_)
        )
    };
    if matches!(to, DataType::Decimal128(..)) && round_decimals {
        return false;
    }
    (numeric(from) && numeric(to)) || (temporal(from) && temporal(to))
}

/// Whether `s` holds a leap second: `H:MM:60` or `HH:MM:60` not inside a longer run of digits
/// (what `(?:^|[^0-9])\d{1,2}:\d{2}:60(?:[^0-9]|$)` matches; scanned by hand: it runs on every
/// timestamp value).
fn has_leap_second(s: &str) -> bool {
    let b = s.as_bytes();
    let digit = |i: usize| b.get(i).is_some_and(u8::is_ascii_digit);
    memchr::memmem::find_iter(b, b":60").any(|p| {
        if digit(p + 3) || p < 4 || !(digit(p - 1) && digit(p - 2) && b[p - 3] == b':') {
            return false;
        }
        // One or two hour digits, then the start or a non-digit.
        let two = p >= 5 && digit(p - 5) && digit(p - 4);
        let start = if two { p - 5 } else { p - 4 };
        digit(p - 4) && (start == 0 || !digit(start - 1))
    })
}

/// The fractional-second digits of the first `D:DD.` / `D:DD,` in `s` (what
/// `\d:\d{2}[.,](\d+)` captures), scanned by hand.
fn fraction_digits(s: &str) -> Option<&str> {
    let b = s.as_bytes();
    memchr::memchr_iter(b':', b).find_map(|p| {
        let shape = p >= 1
            && b[p - 1].is_ascii_digit()
            && b.get(p + 1).is_some_and(u8::is_ascii_digit)
            && b.get(p + 2).is_some_and(u8::is_ascii_digit)
            && matches!(b.get(p + 3), Some(b'.' | b','));
        if !shape {
            return None;
        }
        let start = p + 4;
        let n = b[start..].iter().take_while(|c| c.is_ascii_digit()).count();
        (n > 0).then(|| &s[start..start + n])
    })
}
static OFFSET: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*([Zz]|[+-]\d{2}(?::?\d{2})?)$")
        .expect("regex")
});

fn digits(unit: &TimeUnit) -> usize {
    match unit {
        TimeUnit::Second => 0,
        TimeUnit::Millisecond => 3,
        TimeUnit::Microsecond => 6,
        TimeUnit::Nanosecond => 9,
    }
}

/// Why text `s`, cast to `typed[i]`, is not stored exactly (code, reason), if it is not.
fn text_loss(
    s: &str,
    typed: &ArrayRef,
    i: usize,
    target: &DataType,
    round_decimals: bool,
) -> Option<(ErrorCode, String)> {
    match target {
        DataType::Decimal128(_, scale) | DataType::Decimal256(_, scale) => {
            (!round_decimals && !decimal_text_exact(s, *scale)).then(|| {
                (
                    ErrorCode::LossyValue,
                    format!("has more decimal places than the column's scale {scale} (opt in to rounding with `rounding = \"half_up\"`)"),
                )
            })
        }
        DataType::Float64 | DataType::Float32 => {
            let v = if *target == DataType::Float64 {
                typed.as_primitive::<Float64Type>().value(i)
            } else {
                f64::from(typed.as_primitive::<Float32Type>().value(i))
            };
            float_text_loss(s, v, target)
        }
        DataType::Timestamp(unit, tz) => {
            if has_leap_second(s) {
                return Some((
                    ErrorCode::InvalidType,
                    "is a leap second, which Iceberg timestamps cannot hold".into(),
                ));
            }
            if let Some(loss) = fraction_loss(s, unit) {
                return Some(loss);
            }
            if tz.is_none() {
                if let Some(c) = OFFSET.captures(s.trim()) {
                    let off = c.get(1).map_or("", |m| m.as_str());
                    if !is_zero_offset(off) {
                        return Some((
                            ErrorCode::LossyValue,
                            format!("has the UTC offset `{off}`, but the column is a timestamp without time zone (use `timestamptz`)"),
                        ));
                    }
                }
            }
            None
        }
        DataType::Time64(unit) | DataType::Time32(unit) => {
            if has_leap_second(s) {
                return Some((
                    ErrorCode::InvalidType,
                    "is a leap second, which Iceberg times cannot hold".into(),
                ));
            }
            fraction_loss(s, unit)
        }
        _ => None,
    }
}

/// Why float text `s`, parsed to `v`, is not stored exactly: overflowed to infinity (unless it
/// says infinity or NaN) or underflowed to zero (unless it says zero).
pub(crate) fn float_text_loss(s: &str, v: f64, target: &DataType) -> Option<(ErrorCode, String)> {
    if v.is_infinite() {
        let lower = s.trim().to_ascii_lowercase();
        if !(lower.contains("inf") || lower.contains("nan")) {
            return Some((
                ErrorCode::LossyValue,
                format!("is out of range for {target}"),
            ));
        }
    } else if v == 0.0 && has_nonzero_mantissa(&s.trim().to_ascii_lowercase()) {
        return Some((
            ErrorCode::LossyValue,
            format!("is too small for {target} (it would become 0)"),
        ));
    }
    None
}

fn fraction_loss(s: &str, unit: &TimeUnit) -> Option<(ErrorCode, String)> {
    let frac = fraction_digits(s)?;
    let keep = digits(unit);
    (frac.len() > keep && frac[keep..].bytes().any(|b| b != b'0')).then(|| {
        (
            ErrorCode::LossyValue,
            format!(
                "has {} fractional-second digits; the column keeps {keep}",
                frac.len()
            ),
        )
    })
}

fn is_zero_offset(off: &str) -> bool {
    off.eq_ignore_ascii_case("z") || off[1..].bytes().all(|b| b == b'0' || b == b':')
}

fn has_nonzero_mantissa(lower: &str) -> bool {
    let mantissa = lower.split('e').next().unwrap_or("");
    mantissa.bytes().any(|b| (b'1'..=b'9').contains(&b))
}

/// Whether decimal text has no more significant fractional digits than `scale` (exponents
/// counted: `1.5e-3` has 4).
pub fn decimal_text_exact(s: &str, scale: i8) -> bool {
    let s = s.trim();
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (mantissa, exp) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], s[i + 1..].parse::<i32>().unwrap_or(0)),
        None => (s, 0),
    };
    let frac = mantissa.split_once('.').map_or("", |(_, f)| f);
    let significant = frac.trim_end_matches('0').len() as i32;
    significant - exp <= i32::from(scale)
}

#[cfg(test)]
mod scan_tests {
    use super::*;

    #[test]
    fn scanners_agree_with_the_regexes_they_replace() {
        let leap = Regex::new(r"(?:^|[^0-9])\d{1,2}:\d{2}:60(?:[^0-9]|$)").unwrap();
        let frac = Regex::new(r"\d:\d{2}[.,](\d+)").unwrap();
        for s in [
            "2024-06-30T23:59:60Z",
            "2024-06-30 23:59:60.5",
            "23:59:60",
            "3:59:60",
            "123:59:60",
            "23:59:600",
            "23:59:59",
            "x:60",
            ":60",
            "1:2:60",
            "2024-01-01T12:34:56.123456789+02:00",
            "2024-01-01T12:34:56,5",
            "12:34:56.",
            "12:34.5",
            "1:23:45.6:78.9",
            "a1:23.",
            "",
            "60",
        ] {
            assert_eq!(has_leap_second(s), leap.is_match(s), "leap {s:?}");
            let want = frac.captures(s).and_then(|c| c.get(1)).map(|m| m.as_str());
            assert_eq!(fraction_digits(s), want, "fraction {s:?}");
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{Float64Array, Int64Array, StringArray};

    use super::*;

    fn codes(raw: Vec<&str>, target: DataType) -> Vec<Option<ErrorCode>> {
        let raw: ArrayRef = Arc::new(StringArray::from(raw));
        let typed = cast_with_options(&raw, &target, &CastOptions::default()).unwrap();
        let mut out = vec![None; raw.len()];
        flag_lossy("c", &raw, &typed, &target, false, &mut out).unwrap();
        out.into_iter().map(|v| v.map(|v| v.code)).collect()
    }

    #[test]
    fn decimals_with_more_places_than_the_scale_are_lossy() {
        assert!(decimal_text_exact("1.50", 2) && decimal_text_exact("1.500000", 2));
        assert!(!decimal_text_exact("1.005", 2) && !decimal_text_exact("0.001", 2));
        assert!(decimal_text_exact("1.5e1", 0) && !decimal_text_exact("1.5e-3", 3));
        assert_eq!(
            codes(vec!["1.005", "0.001", "12.30"], DataType::Decimal128(10, 2)),
            vec![
                Some(ErrorCode::LossyValue),
                Some(ErrorCode::LossyValue),
                None
            ]
        );
    }

    #[test]
    fn doubles_out_of_range_are_lossy_but_literals_are_not() {
        assert_eq!(
            codes(
                vec!["1e400", "-inf", "1e-400", "0.0", "2.5"],
                DataType::Float64
            ),
            vec![
                Some(ErrorCode::LossyValue),
                None,
                Some(ErrorCode::LossyValue),
                None,
                None
            ]
        );
    }

    #[test]
    fn timestamps_keep_offsets_digits_and_refuse_leap_seconds() {
        let ts = DataType::Timestamp(TimeUnit::Microsecond, None);
        assert_eq!(
            codes(
                vec![
                    "2026-01-01T10:00:00+05:30",
                    "2026-01-01T10:00:00Z",
                    "2026-01-01T10:00:00.123456789",
                    "2026-01-01T10:00:00.123456000",
                    "2026-01-01",
                ],
                ts
            ),
            vec![
                Some(ErrorCode::LossyValue),
                None,
                Some(ErrorCode::LossyValue),
                None,
                None
            ]
        );
        let tz = DataType::Timestamp(TimeUnit::Microsecond, Some("+00:00".into()));
        assert_eq!(codes(vec!["2026-01-01T10:00:00+05:30"], tz), vec![None]);
        let raw: ArrayRef = Arc::new(StringArray::from(vec!["2016-12-31T23:59:60Z"]));
        let target = DataType::Timestamp(TimeUnit::Microsecond, Some("+00:00".into()));
        let typed = cast_with_options(&raw, &target, &CastOptions::default()).unwrap();
        let mut out = vec![None];
        flag_lossy("c", &raw, &typed, &target, false, &mut out).unwrap();
        if typed.is_valid(0) {
            assert_eq!(
                out[0].as_ref().map(|v| v.code),
                Some(ErrorCode::InvalidType)
            );
        }
    }

    #[test]
    fn typed_input_is_checked_by_casting_back() {
        let raw: ArrayRef = Arc::new(Float64Array::from(vec![2.7, 3.0]));
        let typed = cast_with_options(&raw, &DataType::Int64, &CastOptions::default()).unwrap();
        let mut out = vec![None; 2];
        flag_lossy("c", &raw, &typed, &DataType::Int64, false, &mut out).unwrap();
        assert_eq!(out[0].as_ref().map(|v| v.code), Some(ErrorCode::LossyValue));
        assert!(out[1].is_none());
        let raw: ArrayRef = Arc::new(Int64Array::from(vec![(1 << 53) + 1]));
        let typed = cast_with_options(&raw, &DataType::Float64, &CastOptions::default()).unwrap();
        let mut out = vec![None];
        flag_lossy("c", &raw, &typed, &DataType::Float64, false, &mut out).unwrap();
        assert!(out[0].is_some(), "2^53+1 does not fit a double exactly");
    }
}

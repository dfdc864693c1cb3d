//! What a bad value or row is called: the error codes stored in the quarantine table and the
//! violation (field, code, message) a check reports. A leaf: the contract, the exactness checks
//! and the decoders all speak it without importing each other.

use std::fmt;

/// Why a row (or object) was quarantined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// A value does not parse as the column's type (or overflows it).
    InvalidType,
    /// A required column is null or empty.
    RequiredNull,
    /// Below the column's `min`.
    BelowMin,
    /// Above the column's `max`.
    AboveMax,
    /// Not one of the column's `allowed` values.
    NotAllowed,
    /// Does not match the column's `pattern`.
    PatternMismatch,
    /// Longer than `max_length`.
    TooLong,
    /// A SQL row rule is false or null.
    RuleFailed,
    /// The object could not be decoded at all (the whole object is quarantined).
    Undecodable,
    /// The object's columns break the contract (unknown or missing columns).
    SchemaMismatch,
    /// The value parses but cannot be stored exactly (more decimal places than the scale, out of
    /// a float's range, a fraction in an integer column, sub-microsecond digits, a UTC offset in
    /// a timestamp without zone); lossy conversions happen only where the spec opts in.
    LossyValue,
    /// The object crosses a configured limit (record size, decompressed size, files, columns).
    LimitExceeded,
    /// A CSV record with the wrong number of fields (a ragged row, or an unterminated quote
    /// that ran over the following lines).
    MalformedRecord,
    /// A field that is not valid UTF-8.
    InvalidEncoding,
    /// Under `unknown_columns = "evolve"`: a typed column the table's type cannot hold and no
    /// safe Iceberg promotion fixes (fractions into an integer column, another decimal scale,
    /// another shape).
    IncompatibleType,
}

impl ErrorCode {
    /// The code as stored in the quarantine table.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::InvalidType => "invalid_type",
            Self::RequiredNull => "required_null",
            Self::BelowMin => "below_min",
            Self::AboveMax => "above_max",
            Self::NotAllowed => "not_allowed",
            Self::PatternMismatch => "pattern_mismatch",
            Self::TooLong => "too_long",
            Self::RuleFailed => "rule_failed",
            Self::Undecodable => "undecodable",
            Self::SchemaMismatch => "schema_mismatch",
            Self::LossyValue => "lossy_value",
            Self::LimitExceeded => "limit_exceeded",
            Self::MalformedRecord => "malformed_record",
            Self::InvalidEncoding => "invalid_encoding",
            Self::IncompatibleType => "incompatible_type",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The first contract violation found in a row.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    /// Column (or rule) name.
    pub field: String,
    /// Error code.
    pub code: ErrorCode,
    /// Human-readable message.
    pub message: String,
}

/// A value cut to 120 characters for messages.
pub fn shorten(mut value: String) -> String {
    if value.len() > 120 {
        let cut = (0..=120)
            .rev()
            .find(|&n| value.is_char_boundary(n))
            .unwrap_or(0);
        value.truncate(cut);
        value.push('…');
    }
    value
}

/// Nesting a JSON value may have: deeper values are refused before a decoder sees them (the
/// JSON decoders recurse once per level; thousands of levels would exhaust a thread's stack).
pub const MAX_JSON_DEPTH: usize = 100;

/// A violation when `json` nests objects/arrays deeper than [`MAX_JSON_DEPTH`] (strings are
/// skipped, escapes honoured); one pass over the bytes, no parsing.
pub fn json_too_deep(json: &str, field: &str) -> Option<Violation> {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for b in json.bytes() {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_JSON_DEPTH {
                    return Some(Violation {
                        field: field.to_string(),
                        code: ErrorCode::InvalidType,
                        message: format!("the value nests deeper than {MAX_JSON_DEPTH} levels"),
                    });
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod depth_tests {
    use super::*;

    #[test]
    fn counts_nesting_outside_strings_only() {
        let deep = format!("{}1{}", "[".repeat(101), "]".repeat(101));
        assert!(json_too_deep(&deep, "x").is_some());
        let ok = format!("{}1{}", "[".repeat(100), "]".repeat(100));
        assert!(json_too_deep(&ok, "x").is_none());
        let quoted = format!("{{\"a\": \"{}\\\"\"}}", "[".repeat(500));
        assert!(json_too_deep(&quoted, "x").is_none(), "{quoted}");
    }
}

//! Contracts: per-column coercion and constraints from the table spec, evaluated on whole
//! record batches. A bad value never fails the object: its row is set aside with an error code,
//! the field and a message, and the pipeline sends it to quarantine.

use std::sync::Arc;

use arrow::compute::kernels::cmp::{eq, gt, lt};
use arrow::compute::{cast_with_options, nullif, CastOptions};
use arrow::util::display::{ArrayFormatter, FormatOptions};
use arrow_array::cast::AsArray;
use arrow_array::{
    Array, ArrayRef, BooleanArray, Datum, Scalar, StringArray, TimestampMicrosecondArray,
};
use arrow_schema::{DataType, Field, SchemaRef, TimeUnit};

use crate::spec::ColumnSpec;
use crate::violation::shorten;

mod nested;
pub use crate::violation::{ErrorCode, Violation};
use nested::Shape;
pub use nested::{relaxed, restrict, text_leaves, unknown_json_keys, unknown_nested_fields};

/// A table's contract compiled against one table schema: the column contracts (coercion and
/// constraints) and the SQL row rules. Compiled once per (table, schema) and shared by every
/// object read against that schema, instead of once per object.
#[derive(Debug)]
pub struct CompiledContract {
    /// The table's Arrow schema the contract was compiled for.
    pub table_schema: SchemaRef,
    /// The same schema with every field nullable: rules see rows before bad ones are removed.
    pub eval_schema: SchemaRef,
    /// Per table field, in schema order.
    pub columns: Vec<ColumnContract>,
    /// The SQL row rules.
    pub rules: Vec<crate::rules::CompiledRule>,
}

impl CompiledContract {
    /// Compiles `spec`'s column contracts and rules for `table_schema`; the error names the
    /// column or rule.
    pub fn compile(
        table_schema: SchemaRef,
        spec: &crate::spec::TableSpec,
    ) -> Result<Self, ContractError> {
        let columns = table_schema
            .fields()
            .iter()
            .map(|f| {
                let column_spec = spec.columns.iter().find(|c| &c.name == f.name());
                ColumnContract::compile_at(f, column_spec, &spec.contract.fields)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let eval_schema = nullable(&table_schema);
        let rules = spec
            .contract
            .rules
            .iter()
            .map(|r| {
                crate::rules::compile(r, &eval_schema).map_err(|source| ContractError::Rule {
                    rule: r.name.clone(),
                    sql: r.sql.clone(),
                    source,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            table_schema,
            eval_schema,
            columns,
            rules,
        })
    }
}

/// `uuid` / `fixed[n]` values from text: `2n` hex digits, or for 16 bytes also the hyphenated
/// UUID form (`8-4-4-4-12`); anything else becomes null (and is reported as `invalid_type`).
fn fixed_from_text(
    text: &StringArray,
    n: i32,
) -> Result<arrow_array::FixedSizeBinaryArray, arrow_schema::ArrowError> {
    let mut b = arrow_array::builder::FixedSizeBinaryBuilder::with_capacity(text.len(), n);
    for v in text.iter() {
        match v.and_then(|s| fixed_bytes(s.trim(), n as usize)) {
            Some(bytes) => b.append_value(bytes)?,
            None => b.append_null(),
        }
    }
    Ok(b.finish())
}

fn fixed_bytes(s: &str, n: usize) -> Option<Vec<u8>> {
    if n == 16 && s.len() == 36 {
        return uuid::Uuid::try_parse(s).ok().map(|u| u.as_bytes().to_vec());
    }
    if s.len() != 2 * n || !s.is_ascii() {
        return None;
    }
    (0..n)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok())
        .collect()
}

/// Why a table contract does not compile; names the column or rule.
#[derive(Debug, thiserror::Error)]
pub enum ContractError {
    /// A column option does not fit the column.
    #[error("column `{column}`: {problem}")]
    Column {
        /// The column.
        column: String,
        /// What is wrong.
        problem: ColumnProblem,
    },
    /// A SQL rule does not compile against the table schema.
    #[error("rule `{rule}` ({sql}): {source}")]
    Rule {
        /// The rule's name.
        rule: String,
        /// Its SQL.
        sql: String,
        /// Why.
        #[source]
        source: crate::rules::RuleError,
    },
}

/// What is wrong with one column's contract options.
#[derive(Debug, thiserror::Error)]
pub enum ColumnProblem {
    /// A `min`, `max` or `allowed` value is not a value of the column's type.
    #[error("{what} `{text}` is not a valid {data_type}: {source}")]
    BadValue {
        /// Which option.
        what: &'static str,
        /// The value as written.
        text: String,
        /// The column's type.
        data_type: DataType,
        /// The cast error.
        #[source]
        source: arrow_schema::ArrowError,
    },
    /// `min` above `max`.
    #[error("min {min} is greater than max {max}: every row would fail")]
    EmptyRange {
        /// `min` as written.
        min: String,
        /// `max` as written.
        max: String,
    },
    /// An option set on a column type it does not apply to.
    #[error("`{option}` applies to {applies_to} columns only")]
    NotApplicable {
        /// The option.
        option: &'static str,
        /// The types it applies to.
        applies_to: &'static str,
    },
    /// `pattern` is not a valid regular expression.
    #[error("pattern: {0}")]
    Pattern(#[source] regex::Error),
    /// An unknown `rounding` mode.
    #[error("rounding `{0}`: the supported mode is `half_up` (half away from zero)")]
    Rounding(String),
    /// An unknown `epoch` unit.
    #[error("epoch unit `{0}`: use s, ms, us or ns")]
    EpochUnit(String),
}

/// `schema` with every top-level field nullable.
pub fn nullable(schema: &SchemaRef) -> SchemaRef {
    let fields: Vec<arrow_schema::Field> = schema
        .fields()
        .iter()
        .map(|f| {
            let relaxed = relaxed(f.data_type());
            f.as_ref()
                .clone()
                .with_nullable(true)
                .with_data_type(relaxed)
        })
        .collect();
    std::sync::Arc::new(arrow_schema::Schema::new_with_metadata(
        fields,
        schema.metadata().clone(),
    ))
}

/// Compiled rules of one table column.
#[derive(Debug, Clone)]
pub struct ColumnContract {
    name: String,
    data_type: DataType,
    required: bool,
    empty_as_null: bool,
    min: Option<(Scalar<ArrayRef>, String)>,
    max: Option<(Scalar<ArrayRef>, String)>,
    allowed: Vec<Scalar<ArrayRef>>,
    allowed_text: String,
    pattern: Option<String>,
    max_length: Option<usize>,
    formats: Vec<String>,
    epoch: Option<TimeUnit>,
    /// Decimal rounding the spec opted into (`rounding = "half_up"`).
    round_decimals: bool,
    /// The parts of a struct/list/map column, each with its contract.
    nested: Option<Box<Shape>>,
}

fn toml_text(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn typed_scalar(
    v: &toml::Value,
    ty: &DataType,
    what: &'static str,
) -> Result<Scalar<ArrayRef>, ColumnProblem> {
    let text = toml_text(v);
    let strict = CastOptions {
        safe: false,
        ..Default::default()
    };
    let arr: ArrayRef = Arc::new(StringArray::from(vec![text.as_str()]));
    cast_with_options(&arr, ty, &strict)
        .map(Scalar::new)
        .map_err(|source| ColumnProblem::BadValue {
            what,
            text: text.clone(),
            data_type: ty.clone(),
            source,
        })
}

impl ColumnContract {
    /// Compiles a column's rules against its Arrow field; `spec` is `None` for columns added by
    /// schema evolution (no rules).
    pub fn compile(field: &Field, spec: Option<&ColumnSpec>) -> Result<Self, ContractError> {
        Self::compile_at(field, spec, &[])
    }

    /// As [`ColumnContract::compile`]; `path_rules` are the spec's `[[contract.fields]]`, for
    /// the parts of a nested column (matched by path, `address.country`).
    pub fn compile_at(
        field: &Field,
        spec: Option<&ColumnSpec>,
        path_rules: &[ColumnSpec],
    ) -> Result<Self, ContractError> {
        let ty = field.data_type().clone();
        let mut c = ColumnContract {
            name: field.name().clone(),
            data_type: ty.clone(),
            required: !field.is_nullable(),
            empty_as_null: true,
            min: None,
            max: None,
            allowed: Vec::new(),
            allowed_text: String::new(),
            pattern: None,
            max_length: None,
            formats: Vec::new(),
            epoch: None,
            round_decimals: false,
            nested: Shape::compile(field.name(), &ty, path_rules)?.map(Box::new),
        };
        // `""` is a string value; for other types an empty field means "no value".
        c.empty_as_null = ty != DataType::Utf8;
        let Some(spec) = spec else { return Ok(c) };
        // A path rule can make a nested part required (a column's own nullability is its field's).
        c.required |= spec.required;
        let ctx = |problem: ColumnProblem| ContractError::Column {
            column: spec.name.clone(),
            problem,
        };
        let not_applicable =
            |option, applies_to| ctx(ColumnProblem::NotApplicable { option, applies_to });
        if let Some(e) = spec.empty_as_null {
            c.empty_as_null = e;
        }
        c.round_decimals = match spec.rounding.as_deref() {
            None => false,
            Some("half_up") if matches!(ty, DataType::Decimal128(..)) => true,
            Some("half_up") => return Err(not_applicable("rounding", "decimal")),
            Some(other) => return Err(ctx(ColumnProblem::Rounding(other.into()))),
        };
        c.min = spec
            .min
            .as_ref()
            .map(|v| typed_scalar(v, &ty, "min").map(|s| (s, toml_text(v))))
            .transpose()
            .map_err(ctx)?;
        c.max = spec
            .max
            .as_ref()
            .map(|v| typed_scalar(v, &ty, "max").map(|s| (s, toml_text(v))))
            .transpose()
            .map_err(ctx)?;
        if let (Some((min, lo)), Some((max, hi))) = (&c.min, &c.max) {
            if arrow::compute::kernels::cmp::gt(min, max)
                .map(|b| b.value(0))
                .unwrap_or(false)
            {
                return Err(ctx(ColumnProblem::EmptyRange {
                    min: lo.clone(),
                    max: hi.clone(),
                }));
            }
        }
        if let Some(values) = &spec.allowed {
            c.allowed = values
                .iter()
                .map(|v| typed_scalar(v, &ty, "allowed value"))
                .collect::<Result<_, _>>()
                .map_err(ctx)?;
            c.allowed_text = values.iter().map(toml_text).collect::<Vec<_>>().join(", ");
        }
        if let Some(p) = &spec.pattern {
            if ty != DataType::Utf8 {
                return Err(not_applicable("pattern", "string"));
            }
            regex::Regex::new(p).map_err(|e| ctx(ColumnProblem::Pattern(e)))?;
            c.pattern = Some(p.clone());
        }
        if spec.max_length.is_some() && ty != DataType::Utf8 {
            return Err(not_applicable("max_length", "string"));
        }
        c.max_length = spec.max_length;
        let temporal = matches!(ty, DataType::Timestamp(..) | DataType::Date32);
        if (!spec.formats.is_empty() || spec.epoch.is_some()) && !temporal {
            return Err(not_applicable("formats` / `epoch", "date and timestamp"));
        }
        c.formats = spec.formats.clone();
        c.epoch = match spec.epoch.as_deref() {
            None => None,
            Some("s") => Some(TimeUnit::Second),
            Some("ms") => Some(TimeUnit::Millisecond),
            Some("us") => Some(TimeUnit::Microsecond),
            Some("ns") => Some(TimeUnit::Nanosecond),
            Some(other) => return Err(ctx(ColumnProblem::EpochUnit(other.into()))),
        };
        Ok(c)
    }

    /// The column's rules that need every value (`allowed`, `pattern`, `max_length`, rules on
    /// nested parts): none of them can be decided from Parquet statistics.
    pub fn row_value_rules(&self) -> Vec<&'static str> {
        let mut rules = Vec::new();
        if !self.allowed.is_empty() {
            rules.push("allowed");
        }
        if self.pattern.is_some() {
            rules.push("pattern");
        }
        if self.max_length.is_some() {
            rules.push("max_length");
        }
        if self.nested.is_some() {
            rules.push("nested parts");
        }
        rules
    }

    /// Whether the column has a `min` or `max`.
    pub fn has_bounds(&self) -> bool {
        self.min.is_some() || self.max.is_some()
    }

    /// The first `min`/`max` violation among per-row-group lower bounds `mins` and upper bounds
    /// `maxes` (typed as the column; null where a row group has no value): a lower bound below
    /// `min` or an upper bound above `max` means some row may break the contract.
    pub fn bounds_violation(
        &self,
        mins: &ArrayRef,
        maxes: &ArrayRef,
    ) -> Result<Option<String>, arrow_schema::ArrowError> {
        let first = |mask: BooleanArray, values: &ArrayRef, what: &str, text: &str| {
            let i = (0..mask.len()).find(|&i| mask.is_valid(i) && mask.value(i))?;
            let v = ArrayFormatter::try_new(values.as_ref(), &FormatOptions::default())
                .map(|f| f.value(i).to_string())
                .unwrap_or_default();
            Some(format!(
                "row group {i} of column `{}` holds {v}, {what} {text}",
                self.name
            ))
        };
        if let Some((min, text)) = &self.min {
            if let Some(v) = first(lt(mins, min)?, mins, "below the minimum", text) {
                return Ok(Some(v));
            }
        }
        if let Some((max, text)) = &self.max {
            if let Some(v) = first(gt(maxes, max)?, maxes, "above the maximum", text) {
                return Ok(Some(v));
            }
        }
        Ok(None)
    }

    /// Column name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The column's type when its text needs no option to parse (no formats, epoch or nested
    /// JSON): the CSV fast path may build it straight from the text.
    pub(crate) fn plain_text_type(&self) -> Option<&DataType> {
        (self.nested.is_none() && self.formats.is_empty() && self.epoch.is_none())
            .then_some(&self.data_type)
    }

    /// Converts `raw` to the column type; a value that does not convert becomes null and its row
    /// gets an `invalid_type` violation in `out` (unless the row already has one).
    pub fn coerce(
        &self,
        raw: &ArrayRef,
        out: &mut [Option<Violation>],
    ) -> Result<ArrayRef, arrow_schema::ArrowError> {
        if let Some(shape) = &self.nested {
            return match raw.as_string_opt::<i32>() {
                // JSON text in one field (CSV).
                Some(text) => {
                    let text = text.clone();
                    let parsed = nested::from_json_text(self, &nullif_empty(&text)?, out)?;
                    shape.coerce(self, &parsed, out)
                }
                None => shape.coerce(self, raw, out),
            };
        }
        let mut raw = raw.clone();
        if self.empty_as_null && has_empty_string(&raw) {
            let empty = eq(&raw, &Scalar::new(StringArray::from(vec![""])))?;
            raw = nullif(&raw, &empty)?;
        }
        if raw.data_type() == &self.data_type {
            return Ok(raw);
        }
        // Common case: every value parses exactly in one pass (no cast, no re-scan for loss).
        if let (Some(text), Some(target)) = (raw.as_string_opt::<i32>(), self.plain_text_type()) {
            let value = |i: usize| text.is_valid(i).then(|| text.value(i));
            if let Some(typed) = crate::exact_parse::parse_column(text.len(), value, target) {
                return Ok(typed);
            }
        }
        // Some casts fail the whole array for one bad value (e.g. a leap second in a time):
        // then each value is cast alone, so only its row is set aside.
        let mut typed = match (&self.data_type, raw.as_string_opt::<i32>()) {
            // Arrow has no text → fixed-size binary cast: uuid / fixed[n] text forms.
            (DataType::FixedSizeBinary(n), Some(text)) => {
                Arc::new(fixed_from_text(text, *n)?) as ArrayRef
            }
            _ => match cast_with_options(&raw, &self.data_type, &CastOptions::default()) {
                Ok(t) => t,
                Err(_) => self.cast_value_by_value(&raw)?,
            },
        };
        if typed.null_count() != raw.null_count() {
            // A cast nulls exactly the values it could not convert: unequal null counts = some failed.
            if (self.epoch.is_some() || !self.formats.is_empty())
                && raw.data_type() == &DataType::Utf8
            {
                typed = self.parse_temporal_fallback(&raw, typed)?;
            }
            let formatter = ArrayFormatter::try_new(raw.as_ref(), &FormatOptions::default())?;
            for (i, slot) in out.iter_mut().enumerate() {
                if slot.is_none() && raw.is_valid(i) && typed.is_null(i) {
                    *slot = Some(Violation {
                        field: self.name.clone(),
                        code: ErrorCode::InvalidType,
                        message: format!(
                            "`{}` is not a valid {}",
                            shorten(formatter.value(i).to_string()),
                            self.data_type
                        ),
                    });
                }
            }
        }
        crate::exact::flag_lossy(
            &self.name,
            &raw,
            &typed,
            &self.data_type,
            self.round_decimals,
            out,
        )?;
        Ok(typed)
    }

    fn cast_value_by_value(&self, raw: &ArrayRef) -> Result<ArrayRef, arrow_schema::ArrowError> {
        let parts: Vec<ArrayRef> = (0..raw.len())
            .map(|i| {
                cast_with_options(&raw.slice(i, 1), &self.data_type, &CastOptions::default())
                    .unwrap_or_else(|_| arrow_array::new_null_array(&self.data_type, 1))
            })
            .collect();
        let refs: Vec<&dyn Array> = parts.iter().map(|a| a.as_ref()).collect();
        if refs.is_empty() {
            return Ok(arrow_array::new_empty_array(&self.data_type));
        }
        arrow::compute::concat(&refs)
    }

    /// Epoch numbers and custom formats for values the standard cast could not read.
    fn parse_temporal_fallback(
        &self,
        raw: &ArrayRef,
        typed: ArrayRef,
    ) -> Result<ArrayRef, arrow_schema::ArrowError> {
        let strings = raw
            .as_any()
            .downcast_ref::<StringArray>()
            .expect("utf8 checked");
        let micros: TimestampMicrosecondArray = (0..raw.len())
            .map(|i| {
                if typed.is_valid(i) || strings.is_null(i) {
                    return None;
                }
                let s = strings.value(i).trim();
                if let (Some(unit), Ok(n)) = (self.epoch, s.parse::<i64>()) {
                    return match unit {
                        TimeUnit::Second => n.checked_mul(1_000_000),
                        TimeUnit::Millisecond => n.checked_mul(1_000),
                        TimeUnit::Microsecond => Some(n),
                        // Sub-microsecond digits would be cut off: not a valid value here.
                        TimeUnit::Nanosecond => (n % 1_000 == 0).then_some(n / 1_000),
                    };
                }
                self.formats.iter().find_map(|f| {
                    chrono::NaiveDateTime::parse_from_str(s, f)
                        .ok()
                        .or_else(|| {
                            chrono::NaiveDate::parse_from_str(s, f)
                                .ok()
                                .and_then(|d| d.and_hms_opt(0, 0, 0))
                        })
                        .map(|t| t.and_utc().timestamp_micros())
                })
            })
            .collect();
        let fallback = cast_with_options(
            &micros.with_timezone_opt(tz_of(&self.data_type)),
            &self.data_type,
            &CastOptions::default(),
        )?;
        // Take the standard cast where it worked, else the fallback.
        let use_typed = BooleanArray::from_iter((0..typed.len()).map(|i| Some(typed.is_valid(i))));
        arrow::compute::kernels::zip::zip(&use_typed, &typed, &fallback)
    }

    /// Records required-null and constraint violations of the typed column in `out`.
    pub fn check(
        &self,
        typed: &ArrayRef,
        out: &mut [Option<Violation>],
    ) -> Result<(), arrow_schema::ArrowError> {
        if self.required && typed.null_count() > 0 {
            for (i, slot) in out.iter_mut().enumerate() {
                if slot.is_none() && typed.is_null(i) {
                    *slot = Some(
                        self.violation(ErrorCode::RequiredNull, "required value is missing".into()),
                    );
                }
            }
        }
        let formatter = ArrayFormatter::try_new(typed.as_ref(), &FormatOptions::default())?;
        let flag = |mask: &BooleanArray,
                    code: ErrorCode,
                    msg: &dyn Fn(String) -> String,
                    out: &mut [Option<Violation>]| {
            if mask.true_count() == 0 {
                return;
            }
            for (i, slot) in out.iter_mut().enumerate() {
                if slot.is_none() && mask.is_valid(i) && mask.value(i) {
                    *slot = Some(self.violation(code, msg(formatter.value(i).to_string())));
                }
            }
        };
        if let Some((min, text)) = &self.min {
            flag(
                &lt(typed, min)?,
                ErrorCode::BelowMin,
                &|v| format!("{v} is below the minimum {text}"),
                out,
            );
        }
        if let Some((max, text)) = &self.max {
            flag(
                &gt(typed, max)?,
                ErrorCode::AboveMax,
                &|v| format!("{v} is above the maximum {text}"),
                out,
            );
        }
        if !self.allowed.is_empty() {
            let mut any = BooleanArray::from(vec![false; typed.len()]);
            for a in &self.allowed {
                any = arrow::compute::or(&any, &eq(typed, a as &dyn Datum)?)?;
            }
            let not = arrow::compute::not(&any)?;
            flag(
                &not,
                ErrorCode::NotAllowed,
                &|v| format!("`{v}` is not one of: {}", self.allowed_text),
                out,
            );
        }
        if let Some(p) = &self.pattern {
            let strings = typed
                .as_any()
                .downcast_ref::<StringArray>()
                .expect("pattern on utf8");
            let matched =
                arrow::compute::kernels::regexp::regexp_is_match_scalar(strings, p, None)?;
            flag(
                &arrow::compute::not(&matched)?,
                ErrorCode::PatternMismatch,
                &|v| format!("`{v}` does not match {p}"),
                out,
            );
        }
        if let Some(limit) = self.max_length {
            let strings = typed
                .as_any()
                .downcast_ref::<StringArray>()
                .expect("max_length on utf8");
            let long = BooleanArray::from_iter(
                strings.iter().map(|v| v.map(|s| s.chars().count() > limit)),
            );
            flag(
                &long,
                ErrorCode::TooLong,
                &|v| format!("{} characters, more than {limit}", v.chars().count()),
                out,
            );
        }
        Ok(())
    }

    fn violation(&self, code: ErrorCode, message: String) -> Violation {
        Violation {
            field: self.name.clone(),
            code,
            message,
        }
    }
}

/// Empty strings as nulls (an empty CSV field of a nested column is no value).
fn nullif_empty(text: &StringArray) -> Result<StringArray, arrow_schema::ArrowError> {
    Ok(text
        .iter()
        .map(|v| v.filter(|s| !s.trim().is_empty()))
        .collect())
}

/// Whether a string array holds an empty (non-null) value: offsets only, no comparisons.
fn has_empty_string(a: &ArrayRef) -> bool {
    let Some(strings) = a.as_any().downcast_ref::<StringArray>() else {
        return false;
    };
    let offsets = strings.value_offsets();
    (0..strings.len()).any(|i| offsets[i] == offsets[i + 1] && strings.is_valid(i))
}

fn tz_of(ty: &DataType) -> Option<Arc<str>> {
    match ty {
        DataType::Timestamp(_, tz) => tz.clone(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::TableSpec;

    fn contract(column: &str) -> (ColumnContract, DataType) {
        let spec = TableSpec::from_toml(
            &format!("name = \"t\"\nprefixes = [\"t/\"]\n[[columns]]\n{column}\n"),
            "t.toml",
            "floe",
        )
        .unwrap();
        let arrow = iceberg::arrow::schema_to_arrow_schema(&spec.schema).unwrap();
        let f = arrow.field(0).clone();
        (
            ColumnContract::compile(&f, Some(&spec.columns[0])).unwrap(),
            f.data_type().clone(),
        )
    }

    fn run(c: &ColumnContract, values: Vec<Option<&str>>) -> Vec<Option<ErrorCode>> {
        let raw: ArrayRef = Arc::new(StringArray::from(values));
        let mut out = vec![None; raw.len()];
        let typed = c.coerce(&raw, &mut out).unwrap();
        c.check(&typed, &mut out).unwrap();
        out.into_iter().map(|v| v.map(|v| v.code)).collect()
    }

    #[test]
    fn empty_strings_found_by_offsets_only_when_not_null() {
        let with: ArrayRef = Arc::new(StringArray::from(vec![Some("a"), Some(""), None]));
        let nulls_only: ArrayRef = Arc::new(StringArray::from(vec![Some("a"), None, Some("b")]));
        assert!(has_empty_string(&with));
        assert!(!has_empty_string(&nulls_only));
        // With `empty_as_null`, an empty value in a required column is reported as missing; a
        // clean batch has no violations. Without it (the default for strings) "" is a value.
        let (plain, _) = contract("name = \"s\"\ntype = \"string\"\nrequired = true");
        assert_eq!(run(&plain, vec![Some("x"), Some("")]), vec![None, None]);
        let (c, _) =
            contract("name = \"s\"\ntype = \"string\"\nrequired = true\nempty_as_null = true");
        assert_eq!(
            run(&c, vec![Some("x"), Some(""), Some("y")]),
            vec![None, Some(ErrorCode::RequiredNull), None]
        );
        assert_eq!(run(&c, vec![Some("x"), Some("y")]), vec![None, None]);
    }

    #[test]
    fn flags_type_range_and_required_violations() {
        let (c, _) =
            contract("name = \"qty\"\ntype = \"int\"\nrequired = true\nmin = 0\nmax = 100");
        assert_eq!(
            run(
                &c,
                vec![
                    Some("5"),
                    Some("x"),
                    Some(""),
                    None,
                    Some("-1"),
                    Some("101"),
                    Some("99999999999")
                ]
            ),
            vec![
                None,
                Some(ErrorCode::InvalidType),
                Some(ErrorCode::RequiredNull),
                Some(ErrorCode::RequiredNull),
                Some(ErrorCode::BelowMin),
                Some(ErrorCode::AboveMax),
                Some(ErrorCode::InvalidType)
            ]
        );
    }

    #[test]
    fn flags_allowed_pattern_and_length() {
        let (c, _) = contract(
            "name = \"s\"\ntype = \"string\"\nallowed = [\"a\", \"bb\", \"ccc\"]\nmax_length = 2",
        );
        assert_eq!(
            run(&c, vec![Some("a"), Some("d"), Some("ccc")]),
            vec![None, Some(ErrorCode::NotAllowed), Some(ErrorCode::TooLong)]
        );
        let (c, _) = contract("name = \"s\"\ntype = \"string\"\npattern = \"^[A-Z]{2}$\"");
        assert_eq!(
            run(&c, vec![Some("DE"), Some("de"), None]),
            vec![None, Some(ErrorCode::PatternMismatch), None]
        );
    }

    #[test]
    fn parses_epochs_custom_formats_and_yes_no_booleans() {
        let (c, _) = contract(
            "name = \"t\"\ntype = \"timestamptz\"\nepoch = \"ms\"\nformats = [\"%d/%m/%Y %H:%M\"]",
        );
        let raw: ArrayRef = Arc::new(StringArray::from(vec![
            "2026-01-01T00:00:00Z",
            "1767225600000",
            "01/01/2026 00:00",
            "soon",
        ]));
        let mut out = vec![None; 4];
        let typed = c.coerce(&raw, &mut out).unwrap();
        let ts = typed
            .as_any()
            .downcast_ref::<TimestampMicrosecondArray>()
            .unwrap();
        assert_eq!(
            (ts.value(0), ts.value(1), ts.value(2)),
            (
                1_767_225_600_000_000,
                1_767_225_600_000_000,
                1_767_225_600_000_000
            )
        );
        assert_eq!(
            out[3].as_ref().map(|v| v.code),
            Some(ErrorCode::InvalidType)
        );
        let (b, _) = contract("name = \"b\"\ntype = \"boolean\"");
        assert_eq!(
            run(
                &b,
                vec![Some("yes"), Some("no"), Some("1"), Some("0"), Some("maybe")]
            )
            .iter()
            .filter(|e| e.is_some())
            .count(),
            1
        );
    }

    #[test]
    fn refuses_rules_that_do_not_fit_the_type_at_spec_load() {
        let text = "name = \"t\"\nprefixes = [\"t/\"]\n[[columns]]\nname = \"n\"\ntype = \"long\"\npattern = \"x\"\n";
        let err = crate::router::load_spec(text, "t.toml", "floe")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("t.toml")
                && err.contains("column `n`")
                && err.contains("string columns only"),
            "{err}"
        );
        let bad_min = text.replace("pattern = \"x\"", "min = \"ten\"");
        let err = crate::router::load_spec(&bad_min, "t.toml", "floe")
            .unwrap_err()
            .to_string();
        assert!(err.contains("min `ten` is not a valid Int64"), "{err}");
    }
}

//! Conform decoded batches to the table: match columns by name, apply the object-level contract
//! (unknown / missing columns), coerce every value to its column type and check the column
//! rules. Good rows come out as a batch in the table's Arrow schema; bad rows come out with
//! their record number, first violation and raw values, for quarantine.

use std::sync::Arc;

use arrow::compute::filter;
use arrow::util::display::{ArrayFormatter, FormatOptions};
use arrow_array::{new_null_array, Array, ArrayRef, BooleanArray, RecordBatch, RecordBatchOptions};
use arrow_schema::SchemaRef;

use super::{FormatError, RawBatch};
use crate::contract::CompiledContract;
use crate::spec::{MissingColumns, TableSpec, UnknownColumns};
use crate::violation::{ErrorCode, Violation};

/// A row that broke the contract.
#[derive(Debug, Clone, PartialEq)]
pub struct RejectedRow {
    /// 1-based record number in the object.
    pub record: u64,
    /// The first violation found.
    pub violation: Violation,
    /// The row's values as read, as a JSON object (column → text or null).
    pub raw: String,
}

/// The result of conforming one decoded batch.
#[derive(Debug, Clone)]
pub struct Conformed {
    /// Good rows, in the table's Arrow schema.
    pub batch: RecordBatch,
    /// Rows set aside.
    pub rejected: Vec<RejectedRow>,
}

impl Conformed {
    /// Records this batch read: every one is either a good row or a rejected one.
    pub fn rows_read(&self) -> usize {
        self.batch.num_rows() + self.rejected.len()
    }
}

/// Rows of one object, counted batch by batch as they are conformed. `read()` is derived, so
/// `rows_read = rows_written + rows_quarantined` holds by construction.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RowCounts {
    /// Good rows (written by ingest; valid for validate).
    pub written: u64,
    /// Rows set aside for quarantine.
    pub quarantined: u64,
}

impl RowCounts {
    /// Counts one conformed batch.
    pub fn add(&mut self, c: &Conformed) {
        self.written += c.batch.num_rows() as u64;
        self.quarantined += c.rejected.len() as u64;
    }

    /// Records read.
    pub fn read(&self) -> u64 {
        self.written + self.quarantined
    }

    /// The same records, all quarantined (an object quarantined whole).
    pub fn all_quarantined(self) -> Self {
        Self {
            written: 0,
            quarantined: self.read(),
        }
    }
}

/// Maps an object's columns onto the table's schema and checks the contract.
#[derive(Debug, Clone)]
pub struct Conformer {
    table_schema: SchemaRef,
    /// For each table field, the index of the batch column that feeds it.
    sources: Vec<Option<usize>>,
    /// Column contracts and rules, compiled once per table schema.
    contract: Arc<CompiledContract>,
    object: String,
    case_insensitive: bool,
    unknown_policy: UnknownColumns,
    missing_policy: MissingColumns,
    /// Object columns the table lacks (header / file schema, plus JSON keys seen so far).
    unknown: Vec<String>,
    /// Table columns the object lacks (header / file schema); for JSON lines, columns no record
    /// had yet.
    missing: Vec<String>,
    /// Per table column, whether some JSON record had its key.
    seen_key: Vec<bool>,
    keyed: bool,
}

impl Conformer {
    /// Plans the mapping and applies the object-level policies; a breach rejects the object.
    /// `all_columns` are every column of the object, `batch_columns` those its batches carry (the
    /// projection).
    pub fn new(
        table_schema: SchemaRef,
        all_columns: &[String],
        batch_columns: &[String],
        object: String,
        spec: &TableSpec,
    ) -> Result<Self, FormatError> {
        let contract = CompiledContract::compile(table_schema, spec).map_err(|source| {
            FormatError::Contract {
                object: object.clone(),
                source: Box::new(source),
            }
        })?;
        Self::with_contract(Arc::new(contract), all_columns, batch_columns, object, spec)
    }

    /// As [`Conformer::new`], with the table's contract already compiled (the pipeline compiles
    /// it once per table schema, not per object).
    pub fn with_contract(
        contract: Arc<CompiledContract>,
        all_columns: &[String],
        batch_columns: &[String],
        object: String,
        spec: &TableSpec,
    ) -> Result<Self, FormatError> {
        let table_schema = contract.table_schema.clone();
        let case_insensitive = spec.contract.case_insensitive;
        let same = |a: &str, b: &str| {
            if case_insensitive {
                a.eq_ignore_ascii_case(b)
            } else {
                a == b
            }
        };
        let reject = |message: String| FormatError::Rejected {
            object: object.clone(),
            code: ErrorCode::SchemaMismatch,
            message,
        };
        let unknown: Vec<String> = all_columns
            .iter()
            .filter(|c| !table_schema.fields().iter().any(|f| same(f.name(), c)))
            .cloned()
            .collect();
        if !unknown.is_empty() && spec.contract.unknown_columns == UnknownColumns::Reject {
            return Err(reject(format!(
                "columns not in the table: {}",
                join(&unknown)
            )));
        }
        let mut sources = Vec::with_capacity(table_schema.fields().len());
        let mut missing = Vec::new();
        let mut refused = Vec::new();
        for f in table_schema.fields() {
            let idx = batch_columns
                .iter()
                .position(|c| c == f.name())
                .or_else(|| batch_columns.iter().position(|c| same(c, f.name())));
            if idx.is_none() {
                missing.push(f.name().clone());
                if !f.is_nullable() || spec.contract.missing_columns == MissingColumns::Reject {
                    refused.push(f.name().clone());
                }
            }
            sources.push(idx);
        }
        if !refused.is_empty() {
            return Err(reject(format!(
                "columns missing from the object: {}",
                join(&refused)
            )));
        }
        if !missing.is_empty()
            && !unknown.is_empty()
            && spec.contract.missing_columns == MissingColumns::Null
            && spec.contract.unknown_columns != UnknownColumns::Evolve
        {
            return Err(reject(format!(
                "columns missing from the object: {}; columns not in the table: {} (renamed? match case with `case_insensitive = true`, or accept nulls with `missing_columns = \"fill\"`)",
                join(&missing),
                join(&unknown)
            )));
        }
        let n = table_schema.fields().len();
        Ok(Self {
            table_schema,
            sources,
            contract,
            object,
            case_insensitive,
            unknown_policy: spec.contract.unknown_columns,
            missing_policy: spec.contract.missing_columns,
            unknown,
            missing,
            seen_key: vec![false; n],
            keyed: false,
        })
    }

    /// Object columns the table lacks.
    pub fn unknown_columns(&self) -> &[String] {
        &self.unknown
    }

    /// Table columns the object lacks (for JSON lines: that no record so far had).
    pub fn missing_columns(&self) -> Vec<String> {
        if !self.keyed {
            return self.missing.clone();
        }
        self.table_schema
            .fields()
            .iter()
            .zip(&self.seen_key)
            .filter(|(_, seen)| !**seen)
            .map(|(f, _)| f.name().clone())
            .collect()
    }

    /// Whether `name` is a table column (under the table's case rule).
    pub fn has_column(&self, name: &str) -> bool {
        self.column_index(name).is_some()
    }

    fn column_index(&self, name: &str) -> Option<usize> {
        let fields = self.table_schema.fields();
        fields.iter().position(|f| f.name() == name).or_else(|| {
            self.case_insensitive
                .then(|| {
                    fields
                        .iter()
                        .position(|f| f.name().eq_ignore_ascii_case(name))
                })
                .flatten()
        })
    }

    /// Record-level key checks of JSON lines: unknown keys under `reject`, and a record that
    /// lacks a column while it has a key the table lacks (renamed) under the default policy.
    fn check_keys(&mut self, keys: &[super::RecordKeys], violations: &mut [Option<Violation>]) {
        self.keyed = true;
        let n = self.table_schema.fields().len();
        // Which columns a key list names and which keys the table lacks, worked out once per
        // distinct list (consecutive records with the same keys share one).
        let mut last: Option<(&super::RecordKeys, Vec<bool>, Vec<String>)> = None;
        for (row, row_keys) in keys.iter().enumerate() {
            if !last
                .as_ref()
                .is_some_and(|(k, _, _)| std::sync::Arc::ptr_eq(k, row_keys))
            {
                let mut present = vec![false; n];
                let mut unknown_keys = Vec::new();
                for k in row_keys.iter() {
                    match self.column_index(k) {
                        Some(i) => present[i] = true,
                        None => unknown_keys.push(k.clone()),
                    }
                }
                for (seen, p) in self.seen_key.iter_mut().zip(&present) {
                    *seen |= *p;
                }
                for k in &unknown_keys {
                    if !self.unknown.contains(k) && self.unknown.len() < 1_000 {
                        self.unknown.push(k.clone());
                    }
                }
                last = Some((row_keys, present, unknown_keys));
            }
            let Some((_, present, unknown_keys)) = &last else {
                continue;
            };
            if violations[row].is_some() || unknown_keys.is_empty() {
                continue;
            }
            if self.unknown_policy == UnknownColumns::Reject {
                violations[row] = Some(Violation {
                    field: unknown_keys[0].clone(),
                    code: ErrorCode::SchemaMismatch,
                    message: format!("keys not in the table: {}", join(unknown_keys)),
                });
                continue;
            }
            // A key that differs from an absent column only by case is a renamed key, not an
            // extra one: the column would silently be null. (Absent keys alone are just nulls.)
            let renamed: Vec<(&String, &String)> = self
                .table_schema
                .fields()
                .iter()
                .zip(present.iter())
                .filter(|(_, p)| !**p)
                .filter_map(|(f, _)| {
                    unknown_keys
                        .iter()
                        .find(|k| k.eq_ignore_ascii_case(f.name()))
                        .map(|k| (f.name(), k))
                })
                .collect();
            if let Some((column, key)) = renamed.first() {
                if self.missing_policy == MissingColumns::Null {
                    violations[row] = Some(Violation {
                        field: (*column).clone(),
                        code: ErrorCode::SchemaMismatch,
                        message: format!(
                            "key `{key}` is not in the table and column `{column}` is missing (renamed? set `case_insensitive = true`)"
                        ),
                    });
                }
            }
        }
    }

    /// What each of a CSV object's `columns` is decoded as: the table type where the column's
    /// contract parses plain text (no formats, epoch or nested JSON), else text.
    pub(crate) fn csv_targets(&self, columns: usize) -> Vec<super::csv_records::Target> {
        use super::csv_records::Target;
        let mut targets = vec![Target::Text; columns];
        for (source, contract) in self.sources.iter().zip(&self.contract.columns) {
            if let (Some(j), Some(t)) = (source, contract.plain_text_type()) {
                if let Some(slot) = targets.get_mut(*j) {
                    *slot = Target::for_type(t);
                }
            }
        }
        targets
    }

    /// Conforms `raw`; `records_before` numbers the records.
    pub fn conform(
        &mut self,
        raw: RawBatch,
        records_before: u64,
    ) -> Result<Conformed, FormatError> {
        let rows = raw.batch.num_rows();
        let object = self.object.clone();
        let internal = |e: arrow_schema::ArrowError| FormatError::Field {
            object: object.clone(),
            record: records_before + 1,
            field: String::new(),
            message: e.to_string(),
        };
        let mut violations: Vec<Option<Violation>> = if raw.violations.len() == rows {
            raw.violations.clone()
        } else {
            vec![None; rows]
        };
        if let Some(keys) = &raw.keys {
            self.check_keys(keys, &mut violations);
        }
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(self.sources.len());
        for ((field, source), contract) in self
            .table_schema
            .fields()
            .iter()
            .zip(&self.sources)
            .zip(&self.contract.columns)
        {
            let typed = match source {
                None => new_null_array(field.data_type(), rows),
                Some(i) => contract
                    .coerce(raw.batch.column(*i), &mut violations)
                    .map_err(internal)?,
            };
            contract.check(&typed, &mut violations).map_err(internal)?;
            columns.push(typed);
        }
        if !self.contract.rules.is_empty() {
            let eval = RecordBatch::try_new_with_options(
                self.contract.eval_schema.clone(),
                columns.clone(),
                &RecordBatchOptions::new().with_row_count(Some(rows)),
            )
            .map_err(internal)?;
            for rule in self.contract.rules.iter() {
                let passed = match rule.evaluate(&eval) {
                    Ok(p) => p,
                    // A rule that errors on some row (division by zero, a failed CAST): find the
                    // rows one by one; each failing row is quarantined with the error.
                    Err(_) => {
                        evaluate_row_by_row(rule, &eval, &mut violations);
                        continue;
                    }
                };
                if passed.null_count() == 0 && passed.true_count() == rows {
                    continue;
                }
                for (i, slot) in violations.iter_mut().enumerate() {
                    if slot.is_none() && !passed.value(i) {
                        *slot = Some(Violation {
                            field: rule.name.clone(),
                            code: ErrorCode::RuleFailed,
                            message: format!("rule `{}` failed: {}", rule.name, rule.sql),
                        });
                    }
                }
            }
        }
        let good = BooleanArray::from_iter(violations.iter().map(|v| Some(v.is_none())));
        let rejected = if good.true_count() == rows {
            Vec::new()
        } else {
            rejected_rows(&raw, &mut violations, records_before).map_err(internal)?
        };
        let columns = if rejected.is_empty() {
            columns
        } else {
            columns
                .iter()
                .map(|c| filter(c, &good))
                .collect::<Result<_, _>>()
                .map_err(internal)?
        };
        // Nested columns were checked with every part nullable: the table's nullability back.
        let columns = columns
            .into_iter()
            .zip(self.table_schema.fields())
            .map(|(c, f)| crate::contract::restrict(c, f.data_type()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(internal)?;
        let batch = RecordBatch::try_new_with_options(
            self.table_schema.clone(),
            columns,
            &RecordBatchOptions::new().with_row_count(Some(rows - rejected.len())),
        )
        .map_err(internal)?;
        Ok(Conformed { batch, rejected })
    }
}

/// Evaluates `rule` on each row alone; rows where it errors or fails get a violation.
fn evaluate_row_by_row(
    rule: &crate::rules::CompiledRule,
    eval: &RecordBatch,
    violations: &mut [Option<Violation>],
) {
    for (i, slot) in violations.iter_mut().enumerate() {
        if slot.is_some() {
            continue;
        }
        let message = match rule.evaluate(&eval.slice(i, 1)) {
            Ok(p) if p.value(0) => continue,
            Ok(_) => format!("rule `{}` failed: {}", rule.name, rule.sql),
            Err(e) => format!(
                "rule `{}` could not be evaluated on this row: {e}",
                rule.name
            ),
        };
        *slot = Some(Violation {
            field: rule.name.clone(),
            code: ErrorCode::RuleFailed,
            message,
        });
    }
}

/// The rejected rows with their raw record: the line as read (JSON lines), else the values
/// read as a JSON object (column → text or null).
fn rejected_rows(
    raw: &RawBatch,
    violations: &mut [Option<Violation>],
    records_before: u64,
) -> Result<Vec<RejectedRow>, arrow_schema::ArrowError> {
    let batch = &raw.batch;
    let names: Vec<String> = batch
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    let formatters = batch
        .columns()
        .iter()
        .map(|c| ArrayFormatter::try_new(c.as_ref(), &FormatOptions::default()))
        .collect::<Result<Vec<_>, _>>()?;
    let mut out = Vec::new();
    for (i, v) in violations.iter_mut().enumerate() {
        let Some(violation) = v.take() else { continue };
        let raw_text = match raw.raw.as_ref().and_then(|lines| lines[i].clone()) {
            Some(text) => text,
            None => {
                let mut obj = serde_json::Map::new();
                let columns = names.iter().zip(&formatters).zip(batch.columns());
                for (j, ((name, fmt), col)) in columns.enumerate() {
                    let value = match &raw.texts {
                        _ if col.is_null(i) => serde_json::Value::Null,
                        Some(texts) => texts.field(i, j).into(),
                        None => fmt.value(i).to_string().into(),
                    };
                    obj.insert(name.clone(), value);
                }
                serde_json::Value::Object(obj).to_string()
            }
        };
        out.push(RejectedRow {
            record: records_before + i as u64 + 1,
            violation,
            raw: raw_text,
        });
    }
    Ok(out)
}

fn join<S: AsRef<str>>(names: &[S]) -> String {
    names
        .iter()
        .map(|n| format!("`{}`", n.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{Int64Array, StringArray};
    use arrow_schema::{DataType, Field, Schema};

    use super::*;

    fn spec(contract: &str) -> TableSpec {
        TableSpec::from_toml(
            &format!(
                "name = \"t\"\nprefixes = [\"t/\"]\n{contract}\n[[columns]]\nname = \"id\"\ntype = \"long\"\nrequired = true\n[[columns]]\nname = \"name\"\ntype = \"string\"\n"
            ),
            "t.toml",
            "floe",
        )
        .unwrap()
    }

    fn table(s: &TableSpec) -> SchemaRef {
        Arc::new(iceberg::arrow::schema_to_arrow_schema(&s.schema).unwrap())
    }

    fn raw(cols: &[(&str, Vec<Option<&str>>)]) -> RecordBatch {
        let fields: Vec<Field> = cols
            .iter()
            .map(|(n, _)| Field::new(*n, DataType::Utf8, true))
            .collect();
        let arrays: Vec<ArrayRef> = cols
            .iter()
            .map(|(_, v)| Arc::new(StringArray::from(v.clone())) as ArrayRef)
            .collect();
        RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).unwrap()
    }

    #[test]
    fn splits_good_and_rejected_rows_with_record_numbers() {
        let s = spec("");
        let cols: Vec<String> = vec!["name".into(), "id".into(), "extra".into()];
        let mut c = Conformer::new(table(&s), &cols, &cols, "s3://b/k".into(), &s).unwrap();
        let b = raw(&[
            ("name", vec![Some("a"), Some("b"), Some("c")]),
            ("id", vec![Some("1"), Some("x"), None]),
            ("extra", vec![Some("e1"), Some("e2"), Some("e3")]),
        ]);
        let out = c.conform(RawBatch::plain(b), 10).unwrap();
        assert_eq!(
            (out.rows_read(), out.batch.num_rows(), out.rejected.len()),
            (3, 1, 2)
        );
        assert_eq!(
            out.batch
                .column(0)
                .as_any()
                .downcast_ref::<Int64Array>()
                .unwrap()
                .value(0),
            1
        );
        assert_eq!(out.rejected[0].record, 12);
        assert_eq!(out.rejected[0].violation.code, ErrorCode::InvalidType);
        assert_eq!(out.rejected[0].violation.field, "id");
        assert_eq!(out.rejected[0].raw, r#"{"name":"b","id":"x","extra":"e2"}"#);
        assert_eq!(out.rejected[1].violation.code, ErrorCode::RequiredNull);
    }

    #[test]
    fn object_level_policies_reject_unknown_and_missing_columns() {
        let s = spec("[contract]\nunknown_columns = \"reject\"");
        let cols: Vec<String> = vec!["id".into(), "zzz".into()];
        let err = Conformer::new(table(&s), &cols, &cols, "s3://b/k".into(), &s)
            .unwrap_err()
            .to_string();
        assert!(err.contains("s3://b/k") && err.contains("`zzz`"), "{err}");
        let s = spec("[contract]\nmissing_columns = \"reject\"");
        let err = Conformer::new(
            table(&s),
            &["id".into()],
            &["id".into()],
            "s3://b/k".into(),
            &s,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("missing") && err.contains("`name`"), "{err}");
        let s = spec("");
        assert!(
            Conformer::new(
                table(&s),
                &["id".into()],
                &["id".into()],
                "s3://b/k".into(),
                &s
            )
            .is_ok(),
            "nullable column may be missing"
        );
        let err = Conformer::new(
            table(&s),
            &["name".into()],
            &["name".into()],
            "s3://b/k".into(),
            &s,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("`id`"), "required column missing: {err}");
    }

    #[test]
    fn a_renamed_or_recased_header_is_refused_not_nulled() {
        let s = spec("");
        let cols: Vec<String> = vec!["id".into(), "Name".into()];
        let err = Conformer::new(table(&s), &cols, &cols, "s3://b/k".into(), &s)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("schema_mismatch") && err.contains("`name`") && err.contains("`Name`"),
            "{err}"
        );
        let s = spec("[contract]\ncase_insensitive = true");
        let mut c = Conformer::new(table(&s), &cols, &cols, "s3://b/k".into(), &s).unwrap();
        let out = c
            .conform(
                RawBatch::plain(raw(&[("id", vec![Some("1")]), ("Name", vec![Some("x")])])),
                0,
            )
            .unwrap();
        assert_eq!(out.batch.num_rows(), 1);
        assert!(out.batch.column(1).is_valid(0), "Name feeds name");
        let s = spec("[contract]\nmissing_columns = \"fill\"");
        let c = Conformer::new(table(&s), &cols, &cols, "s3://b/k".into(), &s).unwrap();
        assert_eq!(c.missing_columns(), vec!["name".to_string()]);
    }

    #[test]
    fn json_records_with_renamed_or_unknown_keys_are_set_aside() {
        let cols: Vec<String> = vec!["id".into(), "name".into()];
        let batch = raw(&[
            ("id", vec![Some("1"), Some("2")]),
            ("name", vec![Some("a"), None]),
        ]);
        let keyed = |keys: Vec<Vec<&str>>| RawBatch {
            batch: batch.clone(),
            raw: Some(vec![Some("l1".into()), Some("l2".into())]),
            keys: Some(
                keys.into_iter()
                    .map(|k| k.into_iter().map(String::from).collect())
                    .collect(),
            ),
            violations: vec![None, None],
            texts: None,
        };
        let s = spec("");
        let mut c = Conformer::new(table(&s), &cols, &cols, "s3://b/k".into(), &s).unwrap();
        let out = c
            .conform(keyed(vec![vec!["id", "name"], vec!["id", "Name"]]), 0)
            .unwrap();
        assert_eq!(out.rejected.len(), 1);
        assert_eq!(out.rejected[0].violation.code, ErrorCode::SchemaMismatch);
        assert_eq!(out.rejected[0].raw, "l2", "the raw line is kept intact");
        let s = spec("[contract]\nunknown_columns = \"reject\"");
        let mut c = Conformer::new(table(&s), &cols, &cols, "s3://b/k".into(), &s).unwrap();
        let out = c
            .conform(keyed(vec![vec!["id", "name", "x"], vec!["id"]]), 0)
            .unwrap();
        assert_eq!(out.rejected.len(), 1);
        assert_eq!(out.rejected[0].record, 1);
        assert_eq!(c.unknown_columns(), &["x".to_string()]);
    }
}

//! Conform decoded batches to the table: match columns by name, apply the object-level contract
//! (unknown / missing columns), coerce every value to its column type and check the column
//! rules. Good rows come out as a batch in the table's Arrow schema; bad rows come out with
//! their record number, first violation and raw values, for quarantine.

use std::sync::Arc;

use arrow::compute::filter;
use arrow::util::display::{ArrayFormatter, FormatOptions};
use arrow_array::{new_null_array, Array, ArrayRef, BooleanArray, RecordBatch, RecordBatchOptions};
use arrow_schema::SchemaRef;

use super::FormatError;
use crate::contract::{ColumnContract, ErrorCode, Violation};
use crate::spec::{MissingColumns, TableSpec, UnknownColumns};

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
    /// Rows read (good + rejected).
    pub rows_read: usize,
}

/// Maps an object's columns onto the table's schema and checks the contract.
#[derive(Debug, Clone)]
pub struct Conformer {
    table_schema: SchemaRef,
    /// For each table field, the index of the file column that feeds it.
    sources: Vec<Option<usize>>,
    contracts: Vec<ColumnContract>,
    rules: Arc<Vec<crate::rules::CompiledRule>>,
    /// The table schema with every field nullable: rules see rows before bad ones are removed.
    eval_schema: SchemaRef,
    object: String,
}

impl Conformer {
    /// Plans the mapping and applies the object-level policies; a breach rejects the object.
    pub fn new(
        table_schema: SchemaRef,
        file_columns: &[String],
        object: String,
        spec: &TableSpec,
    ) -> Result<Self, FormatError> {
        let reject = |message: String| FormatError::Rejected {
            object: object.clone(),
            code: ErrorCode::SchemaMismatch,
            message,
        };
        let unknown: Vec<&String> = file_columns
            .iter()
            .filter(|c| table_schema.field_with_name(c).is_err())
            .collect();
        if !unknown.is_empty() && spec.contract.unknown_columns == UnknownColumns::Reject {
            return Err(reject(format!(
                "columns not in the table: {}",
                join(&unknown)
            )));
        }
        let mut sources = Vec::with_capacity(table_schema.fields().len());
        let mut contracts = Vec::with_capacity(table_schema.fields().len());
        let mut missing = Vec::new();
        for f in table_schema.fields() {
            let idx = file_columns.iter().position(|c| c == f.name());
            if idx.is_none()
                && (!f.is_nullable() || spec.contract.missing_columns == MissingColumns::Reject)
            {
                missing.push(f.name());
            }
            sources.push(idx);
            let column_spec = spec.columns.iter().find(|c| &c.name == f.name());
            contracts.push(ColumnContract::compile(f, column_spec).map_err(|message| {
                FormatError::Unsupported {
                    object: object.clone(),
                    message,
                }
            })?);
        }
        if !missing.is_empty() {
            return Err(reject(format!(
                "columns missing from the object: {}",
                join(&missing)
            )));
        }
        let eval_schema = nullable(&table_schema);
        let rules = spec
            .contract
            .rules
            .iter()
            .map(|r| crate::rules::compile(r, &eval_schema))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|message| FormatError::Unsupported {
                object: object.clone(),
                message,
            })?;
        Ok(Self {
            table_schema,
            sources,
            contracts,
            rules: Arc::new(rules),
            eval_schema,
            object,
        })
    }

    /// Conforms `raw`; `records_before` numbers the records.
    pub fn conform(
        &self,
        raw: &RecordBatch,
        records_before: u64,
    ) -> Result<Conformed, FormatError> {
        let rows = raw.num_rows();
        let internal = |e: arrow_schema::ArrowError| FormatError::Field {
            object: self.object.clone(),
            record: records_before + 1,
            field: String::new(),
            message: e.to_string(),
        };
        let mut violations: Vec<Option<Violation>> = vec![None; rows];
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(self.sources.len());
        for ((field, source), contract) in self
            .table_schema
            .fields()
            .iter()
            .zip(&self.sources)
            .zip(&self.contracts)
        {
            let typed = match source {
                None => new_null_array(field.data_type(), rows),
                Some(i) => contract
                    .coerce(raw.column(*i), &mut violations)
                    .map_err(internal)?,
            };
            contract.check(&typed, &mut violations).map_err(internal)?;
            columns.push(typed);
        }
        if !self.rules.is_empty() {
            let eval = RecordBatch::try_new_with_options(
                self.eval_schema.clone(),
                columns.clone(),
                &RecordBatchOptions::new().with_row_count(Some(rows)),
            )
            .map_err(internal)?;
            for rule in self.rules.iter() {
                let passed = rule
                    .evaluate(&eval)
                    .map_err(|message| FormatError::Unsupported {
                        object: self.object.clone(),
                        message,
                    })?;
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
            self.rejected_rows(raw, &mut violations, records_before)
                .map_err(internal)?
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
        let batch = RecordBatch::try_new_with_options(
            self.table_schema.clone(),
            columns,
            &RecordBatchOptions::new().with_row_count(Some(rows - rejected.len())),
        )
        .map_err(internal)?;
        Ok(Conformed {
            batch,
            rejected,
            rows_read: rows,
        })
    }

    fn rejected_rows(
        &self,
        raw: &RecordBatch,
        violations: &mut [Option<Violation>],
        records_before: u64,
    ) -> Result<Vec<RejectedRow>, arrow_schema::ArrowError> {
        let names: Vec<String> = raw
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        let formatters = raw
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &FormatOptions::default()))
            .collect::<Result<Vec<_>, _>>()?;
        let mut out = Vec::new();
        for (i, v) in violations.iter_mut().enumerate() {
            let Some(violation) = v.take() else { continue };
            let mut obj = serde_json::Map::new();
            for ((name, fmt), col) in names.iter().zip(&formatters).zip(raw.columns()) {
                let value = if col.is_null(i) {
                    serde_json::Value::Null
                } else {
                    fmt.value(i).to_string().into()
                };
                obj.insert(name.clone(), value);
            }
            out.push(RejectedRow {
                record: records_before + i as u64 + 1,
                violation,
                raw: serde_json::Value::Object(obj).to_string(),
            });
        }
        Ok(out)
    }
}

/// `schema` with every top-level field nullable.
pub fn nullable(schema: &SchemaRef) -> SchemaRef {
    let fields: Vec<arrow_schema::Field> = schema
        .fields()
        .iter()
        .map(|f| f.as_ref().clone().with_nullable(true))
        .collect();
    std::sync::Arc::new(arrow_schema::Schema::new_with_metadata(
        fields,
        schema.metadata().clone(),
    ))
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
        let c = Conformer::new(
            table(&s),
            &["name".into(), "id".into(), "extra".into()],
            "s3://b/k".into(),
            &s,
        )
        .unwrap();
        let b = raw(&[
            ("name", vec![Some("a"), Some("b"), Some("c")]),
            ("id", vec![Some("1"), Some("x"), None]),
            ("extra", vec![Some("e1"), Some("e2"), Some("e3")]),
        ]);
        let out = c.conform(&b, 10).unwrap();
        assert_eq!(
            (out.rows_read, out.batch.num_rows(), out.rejected.len()),
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
        let err = Conformer::new(
            table(&s),
            &["id".into(), "zzz".into()],
            "s3://b/k".into(),
            &s,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("s3://b/k") && err.contains("`zzz`"), "{err}");
        let s = spec("[contract]\nmissing_columns = \"reject\"");
        let err = Conformer::new(table(&s), &["id".into()], "s3://b/k".into(), &s)
            .unwrap_err()
            .to_string();
        assert!(err.contains("missing") && err.contains("`name`"), "{err}");
        let s = spec("");
        assert!(
            Conformer::new(table(&s), &["id".into()], "s3://b/k".into(), &s).is_ok(),
            "nullable column may be missing"
        );
        let err = Conformer::new(table(&s), &["name".into()], "s3://b/k".into(), &s)
            .unwrap_err()
            .to_string();
        assert!(err.contains("`id`"), "required column missing: {err}");
    }
}

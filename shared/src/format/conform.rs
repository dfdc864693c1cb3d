//! Conform decoded batches to the table's Arrow schema: match columns by name, cast types,
//! fill absent optional columns with nulls, and refuse nulls in required columns — each error
//! naming the object, the record and the field.

use arrow::compute::{cast_with_options, CastOptions};
use arrow_array::{new_null_array, Array, ArrayRef, RecordBatch, RecordBatchOptions};
use arrow_schema::SchemaRef;

use super::FormatError;

/// Maps an object's columns onto the table's schema.
#[derive(Debug, Clone)]
pub struct Conformer {
    table_schema: SchemaRef,
    /// For each table field, the index of the file column that feeds it.
    sources: Vec<Option<usize>>,
    object: String,
}

impl Conformer {
    /// Plans the mapping; a required table column missing from the object is an error.
    pub fn new(
        table_schema: SchemaRef,
        file_columns: &[String],
        object: String,
    ) -> Result<Self, FormatError> {
        let mut sources = Vec::with_capacity(table_schema.fields().len());
        for f in table_schema.fields() {
            let idx = file_columns.iter().position(|c| c == f.name());
            if idx.is_none() && !f.is_nullable() {
                return Err(FormatError::Field {
                    object,
                    record: 0,
                    field: f.name().clone(),
                    message: "required column is missing from the object".into(),
                });
            }
            sources.push(idx);
        }
        Ok(Self {
            table_schema,
            sources,
            object,
        })
    }

    /// Returns `raw` in the table's schema; `records_before` numbers records in errors.
    pub fn conform(
        &self,
        raw: &RecordBatch,
        records_before: u64,
    ) -> Result<RecordBatch, FormatError> {
        let rows = raw.num_rows();
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(self.sources.len());
        for (field, source) in self.table_schema.fields().iter().zip(&self.sources) {
            let array = match source {
                None => new_null_array(field.data_type(), rows),
                Some(i) => {
                    let col = raw.column(*i);
                    if col.data_type() == field.data_type() {
                        col.clone()
                    } else {
                        self.cast(col, field.data_type(), field.name(), records_before)?
                    }
                }
            };
            if !field.is_nullable() && array.null_count() > 0 {
                let row = (0..rows).find(|&r| array.is_null(r)).unwrap_or(0);
                return Err(FormatError::Field {
                    object: self.object.clone(),
                    record: records_before + row as u64 + 1,
                    field: field.name().clone(),
                    message: "null or empty value in a required column".into(),
                });
            }
            columns.push(array);
        }
        RecordBatch::try_new_with_options(
            self.table_schema.clone(),
            columns,
            &RecordBatchOptions::new().with_row_count(Some(rows)),
        )
        .map_err(|e| FormatError::Field {
            object: self.object.clone(),
            record: records_before + 1,
            field: String::new(),
            message: e.to_string(),
        })
    }

    fn cast(
        &self,
        col: &ArrayRef,
        to: &arrow_schema::DataType,
        field: &str,
        records_before: u64,
    ) -> Result<ArrayRef, FormatError> {
        let strict = CastOptions {
            safe: false,
            ..Default::default()
        };
        cast_with_options(col, to, &strict).map_err(|e| {
            // Find the first value that does not survive a lenient cast, to name its record.
            let lenient = cast_with_options(col, to, &CastOptions::default()).ok();
            let row = lenient
                .and_then(|l| (0..col.len()).find(|&r| col.is_valid(r) && l.is_null(r)))
                .unwrap_or(0);
            FormatError::Field {
                object: self.object.clone(),
                record: records_before + row as u64 + 1,
                field: field.to_string(),
                message: format!("cannot convert {} to {to}: {e}", col.data_type()),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{Int32Array, Int64Array, StringArray};
    use arrow_schema::{DataType, Field, Schema};

    use super::*;

    fn table() -> SchemaRef {
        Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new("name", DataType::Utf8, true),
        ]))
    }

    #[test]
    fn reorders_casts_and_fills_missing_optional_columns() {
        let raw = RecordBatch::try_new(
            Arc::new(Schema::new(vec![
                Field::new("extra", DataType::Utf8, true),
                Field::new("id", DataType::Int32, true),
            ])),
            vec![
                Arc::new(StringArray::from(vec!["x", "y"])),
                Arc::new(Int32Array::from(vec![1, 2])),
            ],
        )
        .unwrap();
        let c = Conformer::new(table(), &["extra".into(), "id".into()], "s3://b/k".into()).unwrap();
        let out = c.conform(&raw, 0).unwrap();
        assert_eq!(out.schema(), table());
        assert_eq!(
            out.column(0)
                .as_any()
                .downcast_ref::<Int64Array>()
                .unwrap()
                .values(),
            &[1, 2]
        );
        assert_eq!(out.column(1).null_count(), 2);
    }

    #[test]
    fn names_record_and_field_of_bad_values() {
        let raw = RecordBatch::try_new(
            Arc::new(Schema::new(vec![Field::new("id", DataType::Utf8, true)])),
            vec![Arc::new(StringArray::from(vec![
                Some("1"),
                Some("x"),
                None,
            ]))],
        )
        .unwrap();
        let c = Conformer::new(table(), &["id".into()], "s3://b/k".into()).unwrap();
        let err = c.conform(&raw, 10).unwrap_err().to_string();
        assert!(err.contains("s3://b/k: record 12, field `id`"), "{err}");
        let missing = Conformer::new(table(), &["name".into()], "s3://b/k".into())
            .unwrap_err()
            .to_string();
        assert!(
            missing.contains("field `id`: required column is missing"),
            "{missing}"
        );
    }
}

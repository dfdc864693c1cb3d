//! Register Parquet in place (`mode = "register"`): a landing Parquet object whose columns
//! already are the table's is committed as a data file where it lies, without a copy.
//!
//! It qualifies when its footer alone shows that ingesting it would store every value unchanged
//! and quarantine nothing:
//! - every column it has is a top-level, primitive table column of the same name, typed as the
//!   table's or as a type Iceberg reads as the table's (int → long, float → double, a narrower
//!   decimal precision); field ids, when the file has them, are the table's;
//! - every required table column is there without nulls (Parquet `REQUIRED`, or null counts 0);
//!   missing optional columns follow `missing_columns` as in ingest (they read as nulls);
//! - every `min` / `max` holds by the row groups' statistics (not on float columns: statistics
//!   leave NaN out), no column has a rule needing row values (`allowed`, `pattern`,
//!   `max_length`, nested parts) and the table has no SQL rules;
//! - in a partitioned table, the bounds put every row in one partition;
//! - the key is plain (no `%`, `?`, `#`, whitespace or control characters): engines take a data
//!   file's path as written, and some would decode those.
//!
//! Anything else is ingested as usual, and the reason is reported (`not_registered`).
//!
//! Readers map the file's columns by name through the table's name mapping
//! (`schema.name-mapping.default`), which [`name_mapping_update`] extends to the current schema.
//!
//! **Ownership**: a registered object stays its owner's. Floe never deletes, moves or rewrites it:
//! expiry and orphan removal delete only under the table location, so the object survives even
//! after compaction has rewritten its rows into the table and expiry has dropped every snapshot
//! that referenced it. In turn its owner must not overwrite or delete it while a snapshot
//! references it (the commit service refuses a request whose registered object changed size).

use std::collections::HashMap;
use std::sync::Arc;

use arrow::compute::cast;
use arrow_array::{Array, ArrayRef};
use arrow_schema::{DataType, Schema as ArrowSchema};
use iceberg::arrow::{arrow_primitive_to_literal, schema_to_arrow_schema};
use iceberg::spec::{
    DataContentType, DataFile, DataFileBuilder, DataFileFormat, Datum, Literal, MappedField,
    NameMapping, NestedField, PrimitiveLiteral, PrimitiveType, Schema, Struct, Transform, Type,
    DEFAULT_SCHEMA_NAME_MAPPING,
};
use iceberg::table::Table;
use iceberg::transform::create_transform_function;
use parquet::arrow::arrow_reader::statistics::StatisticsConverter;
use parquet::file::metadata::ParquetMetaData;

use crate::contract::{ColumnContract, CompiledContract};
use crate::encoding::InputFormat;
use crate::format::{FormatError, ObjectFormat};
use crate::landing::Landing;
use crate::source::ObjectRef;
use crate::spec::{MissingColumns, TableSpec};

/// An object that qualifies: its data file, as the table will reference it.
#[derive(Debug)]
pub struct Registration {
    /// The data file: the landing object's own path, with statistics from its footer.
    pub data_file: DataFile,
    /// Rows in the object.
    pub rows: u64,
    /// Optional table columns the object lacks (they read as nulls).
    pub missing: Vec<String>,
}

/// Why an object is not registered.
#[derive(Debug)]
pub enum Decline {
    /// It does not qualify; ingest it and report why.
    NotEligible(String),
    /// Its footer could not be read for a reason ingest must handle the same way (version gone
    /// or overwritten, storage unreachable).
    Read(FormatError),
}

fn no(reason: impl Into<String>) -> Decline {
    Decline::NotEligible(reason.into())
}

/// Checks `object` (a pinned version with its size) against `table` and `contract` from its
/// footer, and builds its data file when it qualifies.
pub async fn inspect(
    landing: Arc<Landing>,
    object: &ObjectRef,
    spec: &TableSpec,
    table: &Table,
    contract: &CompiledContract,
) -> Result<Registration, Decline> {
    plain_key(&object.key).map_err(no)?;
    let fmt =
        ObjectFormat::detect(spec, &object.key, object.content_encoding.as_deref()).map_err(no)?;
    if fmt.format != InputFormat::Parquet {
        return Err(no(format!(
            "a {} object: only Parquet is registered",
            fmt.format
        )));
    }
    if let Some(rule) = contract.rules.first() {
        return Err(no(format!("the SQL rule `{}` needs row values", rule.name)));
    }
    let size = object
        .size
        .ok_or_else(|| no("the object's size is not known"))?;
    let metadata =
        crate::format::parquet_input::footer(landing, object.clone(), size, &object.url())
            .await
            .map_err(|e| match e {
                FormatError::Source(_) => Decline::Read(e),
                e if e.is_retryable() => Decline::Read(e),
                e => no(format!("its footer does not decode: {e}")),
            })?
            .metadata()
            .clone();
    let rows = u64::try_from(metadata.file_metadata().num_rows()).unwrap_or(0);
    if rows == 0 {
        return Err(no("it holds no rows"));
    }
    let file_schema =
        parquet::arrow::parquet_to_arrow_schema(metadata.file_metadata().schema_descr(), None)
            .map_err(|e| no(format!("its schema has no Arrow form: {e}")))?;
    let schema = table.metadata().current_schema();
    let table_arrow = schema_to_arrow_schema(schema).map_err(|e| no(e.to_string()))?;
    let (columns, missing) = match_columns(&file_schema, schema, &table_arrow, spec)?;
    let mut stats = HashMap::new();
    for c in &columns {
        let contract_column = contract
            .columns
            .iter()
            .find(|cc| cc.name() == c.field.name)
            .ok_or_else(|| no(format!("column `{}` has no contract", c.field.name)))?;
        let s = column_stats(c, &file_schema, &metadata, contract_column)?;
        stats.insert(c.field.id, s);
    }
    let partition = partition_of(table, schema, &stats, rows)?;
    let data_file = data_file(object, size, rows, &metadata, partition, table, stats)?;
    Ok(Registration {
        data_file,
        rows,
        missing,
    })
}

/// A key engines read back as written.
fn plain_key(key: &str) -> Result<(), String> {
    match key
        .chars()
        .find(|c| matches!(c, '%' | '?' | '#') || c.is_whitespace() || c.is_control())
    {
        Some(c) => Err(format!(
            "its key holds {c:?}, which some engines would decode in a data file path"
        )),
        None => Ok(()),
    }
}

/// A file column matched to its table field.
struct Column<'a> {
    field: &'a NestedField,
    primitive: PrimitiveType,
    /// The table field's Arrow type (bounds are cast to it).
    table_type: DataType,
    /// Whether the file declares the column `REQUIRED` (no nulls by construction).
    file_required: bool,
}

/// Matches the file's columns to table fields by name; the table columns the file lacks.
fn match_columns<'a>(
    file_schema: &ArrowSchema,
    schema: &'a Schema,
    table_arrow: &ArrowSchema,
    spec: &TableSpec,
) -> Result<(Vec<Column<'a>>, Vec<String>), Decline> {
    let mut columns = Vec::new();
    let mut unknown = Vec::new();
    for f in file_schema.fields() {
        let Some(field) = schema.as_struct().field_by_name(f.name()) else {
            unknown.push(f.name().clone());
            continue;
        };
        let Type::Primitive(primitive) = field.field_type.as_ref() else {
            return Err(no(format!(
                "column `{}` is nested: nested columns are ingested",
                f.name()
            )));
        };
        let table_type = table_arrow
            .field_with_name(f.name())
            .map_err(|e| no(e.to_string()))?
            .data_type()
            .clone();
        if !readable_as(f.data_type(), &table_type) {
            return Err(no(format!(
                "column `{}` is {} in the file, not the table's {primitive}",
                f.name(),
                f.data_type()
            )));
        }
        if let Some(id) = f.metadata().get(parquet::arrow::PARQUET_FIELD_ID_META_KEY) {
            if id.parse::<i32>().ok() != Some(field.id) {
                return Err(no(format!(
                    "column `{}` has field id {id} in the file, {} in the table",
                    f.name(),
                    field.id
                )));
            }
        }
        columns.push(Column {
            field,
            primitive: primitive.clone(),
            table_type,
            file_required: !f.is_nullable(),
        });
    }
    if !unknown.is_empty() {
        return Err(no(format!(
            "it has columns the table lacks: {}",
            unknown.join(", ")
        )));
    }
    let missing: Vec<&NestedField> = schema
        .as_struct()
        .fields()
        .iter()
        .filter(|t| file_schema.field_with_name(&t.name).is_err())
        .map(|t| t.as_ref())
        .collect();
    if let Some(r) = missing.iter().find(|t| t.required) {
        return Err(no(format!("it lacks the required column `{}`", r.name)));
    }
    if !missing.is_empty() && spec.contract.missing_columns == MissingColumns::Reject {
        return Err(no(format!(
            "it lacks the columns {} (`missing_columns = \"reject\"`)",
            missing
                .iter()
                .map(|m| m.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    Ok((columns, missing.iter().map(|m| m.name.clone()).collect()))
}

/// Whether Iceberg readers read a Parquet column of Arrow type `file` as the table's `table`
/// type, value for value: the same type, or one of Iceberg's promotions.
fn readable_as(file: &DataType, table: &DataType) -> bool {
    use DataType::*;
    let text = |t: &DataType| matches!(t, Utf8 | LargeUtf8 | Utf8View);
    let bytes = |t: &DataType| matches!(t, Binary | LargeBinary | BinaryView);
    match (file, table) {
        (a, b) if a == b => true,
        (a, b) if text(a) && text(b) => true,
        (a, b) if bytes(a) && bytes(b) => true,
        (Int32, Int64) | (Float32, Float64) => true,
        (Timestamp(u1, z1), Timestamp(u2, z2)) => u1 == u2 && z1.is_some() == z2.is_some(),
        (Decimal128(p1, s1), Decimal128(p2, s2)) => s1 == s2 && p1 <= p2,
        _ => false,
    }
}

/// What the footer says about one column, keyed for the data file by field id.
struct ColumnStats {
    size: u64,
    values: u64,
    /// Nulls in all, when every row group counts them.
    nulls: Option<u64>,
    /// Bounds over every row group holding values (none when one of them has no statistics).
    lower: Option<Datum>,
    upper: Option<Datum>,
    /// Whether both bounds are the exact extremes (strings may be truncated).
    exact: bool,
}

/// A column's statistics from the footer, with its contract checked against them.
fn column_stats(
    c: &Column,
    file_schema: &ArrowSchema,
    metadata: &ParquetMetaData,
    contract: &ColumnContract,
) -> Result<ColumnStats, Decline> {
    let name = &c.field.name;
    let failed = |e: parquet::errors::ParquetError| no(format!("column `{name}`: {e}"));
    let rules = contract.row_value_rules();
    if !rules.is_empty() {
        return Err(no(format!(
            "column `{name}` has rules needing row values: {}",
            rules.join(", ")
        )));
    }
    let groups = metadata.row_groups();
    let conv =
        StatisticsConverter::try_new(name, file_schema, metadata.file_metadata().schema_descr())
            .map_err(failed)?;
    let index = conv
        .parquet_column_index()
        .ok_or_else(|| no(format!("column `{name}` has no Parquet column")))?;
    let size = groups
        .iter()
        .map(|g| g.column(index).compressed_size() as u64)
        .sum();
    let values = groups
        .iter()
        .map(|g| g.column(index).num_values() as u64)
        .sum();
    let null_counts = conv.row_group_null_counts(groups).map_err(failed)?;
    let nulls = (null_counts.null_count() == 0).then(|| null_counts.values().iter().sum::<u64>());
    if c.field.required && !c.file_required && nulls != Some(0) {
        return Err(no(match nulls {
            Some(n) => format!("the required column `{name}` holds {n} nulls"),
            None => format!("the required column `{name}` has no null counts"),
        }));
    }
    let as_table =
        |a: ArrayRef| cast(&a, &c.table_type).map_err(|e| no(format!("column `{name}`: {e}")));
    let mins = as_table(conv.row_group_mins(groups).map_err(failed)?)?;
    let maxes = as_table(conv.row_group_maxes(groups).map_err(failed)?)?;
    // A row group holding values without bounds leaves the column's bounds unknown.
    let unbounded = (0..groups.len()).any(|i| {
        let all_null =
            null_counts.is_valid(i) && null_counts.value(i) == groups[i].num_rows() as u64;
        !all_null && (mins.is_null(i) || maxes.is_null(i))
    });
    if contract.has_bounds() {
        check_bounds(c, contract, &mins, &maxes, unbounded)?;
    }
    let exact = conv
        .row_group_is_min_value_exact(groups)
        .ok()
        .zip(conv.row_group_is_max_value_exact(groups).ok())
        .is_some_and(|(lo, hi)| lo.true_count() == lo.len() && hi.true_count() == hi.len());
    let (lower, upper) = if unbounded {
        (None, None)
    } else {
        (
            extreme(&mins, &c.primitive, std::cmp::Ordering::Less),
            extreme(&maxes, &c.primitive, std::cmp::Ordering::Greater),
        )
    };
    Ok(ColumnStats {
        size,
        values,
        nulls,
        lower,
        upper,
        exact,
    })
}

/// A column's `min`/`max` against its row groups' bounds (`unbounded`: a row group holding
/// values has none).
fn check_bounds(
    c: &Column,
    contract: &ColumnContract,
    mins: &ArrayRef,
    maxes: &ArrayRef,
    unbounded: bool,
) -> Result<(), Decline> {
    let name = &c.field.name;
    if matches!(c.primitive, PrimitiveType::Float | PrimitiveType::Double) {
        return Err(no(format!(
            "column `{name}` has a min/max, and float statistics leave NaN out"
        )));
    }
    if unbounded {
        return Err(no(format!(
            "column `{name}` has a min/max, and a row group has no statistics for it"
        )));
    }
    match contract
        .bounds_violation(mins, maxes)
        .map_err(|e| no(e.to_string()))?
    {
        Some(v) => Err(no(v)),
        None => Ok(()),
    }
}

/// The smallest (`Less`) or largest (`Greater`) non-null value of `array` as a datum.
fn extreme(array: &ArrayRef, ty: &PrimitiveType, keep: std::cmp::Ordering) -> Option<Datum> {
    let literals = arrow_primitive_to_literal(array, &Type::Primitive(ty.clone())).ok()?;
    literals
        .into_iter()
        .flatten()
        .filter_map(|l| datum(l, ty))
        .reduce(|a, b| {
            if b.partial_cmp(&a) == Some(keep) {
                b
            } else {
                a
            }
        })
}

/// A literal of `ty` as a datum (through Iceberg's single-value binary form).
fn datum(literal: Literal, ty: &PrimitiveType) -> Option<Datum> {
    let Literal::Primitive(p) = literal else {
        return None;
    };
    let bytes = match p {
        PrimitiveLiteral::Boolean(b) => vec![u8::from(b)],
        PrimitiveLiteral::Int(v) => v.to_le_bytes().to_vec(),
        PrimitiveLiteral::Long(v) => v.to_le_bytes().to_vec(),
        PrimitiveLiteral::Float(v) => v.0.to_le_bytes().to_vec(),
        PrimitiveLiteral::Double(v) => v.0.to_le_bytes().to_vec(),
        PrimitiveLiteral::String(s) => s.into_bytes(),
        PrimitiveLiteral::Binary(b) => b,
        PrimitiveLiteral::Int128(v) => v.to_be_bytes().to_vec(),
        PrimitiveLiteral::UInt128(v) => v.to_be_bytes().to_vec(),
        PrimitiveLiteral::AboveMax | PrimitiveLiteral::BelowMin => return None,
    };
    Datum::try_from_bytes(&bytes, ty.clone()).ok()
}

/// The one partition every row falls in, from the bounds of each partition source column.
fn partition_of(
    table: &Table,
    schema: &Schema,
    stats: &HashMap<i32, ColumnStats>,
    rows: u64,
) -> Result<Struct, Decline> {
    let spec = table.metadata().default_partition_spec();
    let mut values = Vec::with_capacity(spec.fields().len());
    for pf in spec.fields() {
        let source = schema
            .name_by_field_id(pf.source_id)
            .unwrap_or("?")
            .to_string();
        let Some(s) = stats
            .get(&pf.source_id)
            .filter(|_| pf.transform != Transform::Void)
        else {
            // A void transform, or a column the object lacks: every row's value is null.
            values.push(None);
            continue;
        };
        match s.nulls {
            Some(n) if n == rows => {
                values.push(None);
                continue;
            }
            Some(0) => {}
            Some(_) => {
                return Err(no(format!(
                    "partition column `{source}` holds nulls and values: rows of more than one partition"
                )))
            }
            None => return Err(no(format!("partition column `{source}` has no null counts"))),
        }
        let (Some(lo), Some(hi), true) = (&s.lower, &s.upper, s.exact) else {
            return Err(no(format!(
                "partition column `{source}` has no exact bounds in the footer"
            )));
        };
        let f = create_transform_function(&pf.transform).map_err(|e| no(e.to_string()))?;
        let a = f.transform_literal(lo).map_err(|e| no(e.to_string()))?;
        let b = f.transform_literal(hi).map_err(|e| no(e.to_string()))?;
        if a != b || (!pf.transform.preserves_order() && lo != hi) {
            return Err(no(format!(
                "its rows span more than one `{}` partition ({lo} … {hi})",
                pf.name
            )));
        }
        values.push(a.map(|d| Literal::Primitive(d.literal().clone())));
    }
    Ok(Struct::from_iter(values))
}

/// The data file the table references: the object's own path and footer statistics.
fn data_file(
    object: &ObjectRef,
    size: u64,
    rows: u64,
    metadata: &ParquetMetaData,
    partition: Struct,
    table: &Table,
    stats: HashMap<i32, ColumnStats>,
) -> Result<DataFile, Decline> {
    let mut column_sizes = HashMap::new();
    let mut value_counts = HashMap::new();
    let mut null_counts = HashMap::new();
    let mut lower = HashMap::new();
    let mut upper = HashMap::new();
    for (id, s) in stats {
        column_sizes.insert(id, s.size);
        value_counts.insert(id, s.values);
        if let Some(n) = s.nulls {
            null_counts.insert(id, n);
        }
        // Truncated string bounds still bound the values (Parquet's max is rounded up).
        if let (Some(lo), Some(hi)) = (s.lower, s.upper) {
            lower.insert(id, lo);
            upper.insert(id, hi);
        }
    }
    let mut offsets: Vec<i64> = metadata
        .row_groups()
        .iter()
        .filter_map(|g| g.file_offset())
        .collect();
    offsets.sort_unstable();
    DataFileBuilder::default()
        .content(DataContentType::Data)
        .file_path(object.url())
        .file_format(DataFileFormat::Parquet)
        .partition(partition)
        .partition_spec_id(table.metadata().default_partition_spec_id())
        .record_count(rows)
        .file_size_in_bytes(size)
        .column_sizes(column_sizes)
        .value_counts(value_counts)
        .null_value_counts(null_counts)
        .lower_bounds(lower)
        .upper_bounds(upper)
        .split_offsets(Some(offsets))
        .build()
        .map_err(|e| no(format!("cannot describe it as a data file: {e}")))
}

/// The name mapping of `schema`: every field (nested ones too) by its current name.
pub fn name_mapping_of(schema: &Schema) -> NameMapping {
    fn mapped(field: &NestedField) -> MappedField {
        let children: Vec<MappedField> = match field.field_type.as_ref() {
            Type::Struct(s) => s.fields().iter().map(|f| mapped(f)).collect(),
            Type::List(l) => vec![mapped(&l.element_field)],
            Type::Map(m) => vec![mapped(&m.key_field), mapped(&m.value_field)],
            Type::Primitive(_) => Vec::new(),
        };
        MappedField::new(Some(field.id), vec![field.name.clone()], children)
    }
    NameMapping::new(
        schema
            .as_struct()
            .fields()
            .iter()
            .map(|f| mapped(f))
            .collect(),
    )
}

/// The `schema.name-mapping.default` value a table needs before files are registered into it:
/// `None` when its mapping already covers the current schema, else the mapping of the current
/// schema with the names an existing mapping gave (another engine's aliases) kept.
pub fn name_mapping_update(table: &Table) -> Result<Option<String>, serde_json::Error> {
    let wanted = name_mapping_of(table.metadata().current_schema());
    let existing: Option<NameMapping> = table
        .metadata()
        .properties()
        .get(DEFAULT_SCHEMA_NAME_MAPPING)
        .and_then(|raw| serde_json::from_str(raw).ok());
    let merged = match &existing {
        None => wanted,
        Some(old) => merge(&wanted, old),
    };
    if existing.as_ref() == Some(&merged) {
        return Ok(None);
    }
    serde_json::to_string(&merged).map(Some)
}

/// `wanted` with each field's names extended by the names `old` gave the same field id.
fn merge(wanted: &NameMapping, old: &NameMapping) -> NameMapping {
    fn by_id(fields: &[Arc<MappedField>], out: &mut HashMap<i32, Vec<String>>) {
        for f in fields {
            if let Some(id) = f.field_id() {
                out.entry(id).or_default().extend(f.names().iter().cloned());
            }
            by_id(f.fields(), out);
        }
    }
    fn rebuild(f: &MappedField, old: &HashMap<i32, Vec<String>>) -> MappedField {
        let mut names = f.names().to_vec();
        if let Some(extra) = f.field_id().and_then(|id| old.get(&id)) {
            for n in extra {
                if !names.contains(n) {
                    names.push(n.clone());
                }
            }
        }
        let children = f.fields().iter().map(|c| rebuild(c, old)).collect();
        MappedField::new(f.field_id(), names, children)
    }
    let mut old_names = HashMap::new();
    let old_fields: Vec<Arc<MappedField>> = old.fields().iter().cloned().map(Arc::new).collect();
    by_id(&old_fields, &mut old_names);
    NameMapping::new(
        wanted
            .fields()
            .iter()
            .map(|f| rebuild(f, &old_names))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn promotions_read_value_for_value_and_nothing_else() {
        use arrow_schema::TimeUnit::*;
        assert!(readable_as(&DataType::Int32, &DataType::Int64));
        assert!(readable_as(&DataType::Float32, &DataType::Float64));
        assert!(readable_as(
            &DataType::Decimal128(9, 2),
            &DataType::Decimal128(12, 2)
        ));
        assert!(readable_as(
            &DataType::Timestamp(Microsecond, Some("UTC".into())),
            &DataType::Timestamp(Microsecond, Some("+00:00".into()))
        ));
        assert!(!readable_as(&DataType::Int64, &DataType::Int32));
        assert!(!readable_as(&DataType::Int16, &DataType::Int32));
        assert!(!readable_as(
            &DataType::Decimal128(12, 2),
            &DataType::Decimal128(12, 3)
        ));
        assert!(!readable_as(
            &DataType::Timestamp(Millisecond, None),
            &DataType::Timestamp(Microsecond, None)
        ));
        assert!(!readable_as(
            &DataType::Timestamp(Microsecond, None),
            &DataType::Timestamp(Microsecond, Some("+00:00".into()))
        ));
        assert!(!readable_as(&DataType::Binary, &DataType::Utf8));
    }

    #[test]
    fn keys_engines_would_decode_do_not_qualify() {
        assert!(plain_key("landing/2024/part-0001.parquet").is_ok());
        for bad in ["a b.parquet", "a%20b.parquet", "a?x.parquet", "a#1.parquet"] {
            assert!(plain_key(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bounds_decode_through_the_binary_form() {
        assert_eq!(
            datum(
                Literal::Primitive(PrimitiveLiteral::Long(-5)),
                &PrimitiveType::Long
            ),
            Some(Datum::long(-5))
        );
        let d = datum(
            Literal::Primitive(PrimitiveLiteral::Int128(-12345)),
            &PrimitiveType::Decimal {
                precision: 10,
                scale: 2,
            },
        )
        .unwrap();
        assert_eq!(d.to_string(), "-123.45");
    }

    #[test]
    fn name_mapping_keeps_other_engines_aliases() {
        let schema = Schema::builder()
            .with_fields(vec![
                NestedField::required(1, "id", Type::Primitive(PrimitiveType::Long)).into(),
                NestedField::optional(2, "name", Type::Primitive(PrimitiveType::String)).into(),
            ])
            .build()
            .unwrap();
        let wanted = name_mapping_of(&schema);
        assert_eq!(
            serde_json::to_string(&wanted).unwrap(),
            r#"[{"field-id":1,"names":["id"]},{"field-id":2,"names":["name"]}]"#
        );
        let old: NameMapping =
            serde_json::from_str(r#"[{"field-id":2,"names":["name","full_name"]}]"#).unwrap();
        let merged = merge(&wanted, &old);
        assert_eq!(merged.fields()[1].names(), ["name", "full_name"]);
        assert_eq!(merged.fields()[0].names(), ["id"]);
    }
}

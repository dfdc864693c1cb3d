//! Nested columns (struct, list, map). The contract walks a value's shape: every leaf is coerced
//! and checked by an ordinary leaf [`ColumnContract`] named by its path (`address.country`,
//! `tags.element`, `attrs.value`), and a leaf's violation becomes its row's violation. Input
//! arrives in three forms — typed (Parquet, Avro), with text leaves (JSON lines: the decoder keeps
//! the structure and leaves every primitive as its text), or as JSON text in one cell (CSV) — and
//! leaves go through the same exactness checks as top-level columns.
//!
//! While rows are checked, nested fields are all nullable ("relaxed"): a required field that is
//! null only fails its row. Once bad rows are filtered out, [`restrict`] puts the table's
//! nullability back (validated by arrow).

use std::sync::Arc;

use arrow::array::{make_array, ArrayData};
use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayRef, ListArray, MapArray, StringArray, StructArray};
use arrow_schema::{ArrowError, DataType, Field, FieldRef, Fields};

use super::{ColumnContract, ContractError};
use crate::spec::ColumnSpec;
use crate::violation::{ErrorCode, Violation};

/// The parts of a nested column, each with its contract.
#[derive(Debug, Clone)]
pub(super) enum Shape {
    /// Struct children, by name.
    Struct(Vec<ColumnContract>),
    /// The list element.
    List(Box<ColumnContract>),
    /// Map key and value.
    Map(Box<ColumnContract>, Box<ColumnContract>),
}

impl Shape {
    /// The shape of a column of type `ty` at `path`; `None` for a primitive. Path rules
    /// (`[[contract.fields]]`) apply to the leaves they name.
    pub(super) fn compile(
        path: &str,
        ty: &DataType,
        rules: &[ColumnSpec],
    ) -> Result<Option<Self>, ContractError> {
        let part = |f: &Field, name: String| {
            let named = f.clone().with_name(name.clone());
            ColumnContract::compile_at(&named, rules.iter().find(|r| r.name == name), rules)
        };
        Ok(Some(match ty {
            DataType::Struct(fields) => Shape::Struct(
                fields
                    .iter()
                    .map(|f| part(f, format!("{path}.{}", f.name())))
                    .collect::<Result<_, _>>()?,
            ),
            DataType::List(f) => Shape::List(Box::new(part(f, format!("{path}.element"))?)),
            DataType::Map(entries, _) => {
                let DataType::Struct(kv) = entries.data_type() else {
                    return Ok(None);
                };
                Shape::Map(
                    Box::new(part(&kv[0], format!("{path}.key"))?),
                    Box::new(part(&kv[1], format!("{path}.value"))?),
                )
            }
            _ => return Ok(None),
        }))
    }

    /// Coerces `raw` (typed or with text leaves) to the column's relaxed type; a bad leaf sets
    /// its row's violation in `out` (first one wins).
    pub(super) fn coerce(
        &self,
        column: &ColumnContract,
        raw: &ArrayRef,
        out: &mut [Option<Violation>],
    ) -> Result<ArrayRef, ArrowError> {
        let target = relaxed(&column.data_type);
        let wrong_shape = |out: &mut [Option<Violation>]| {
            for (i, slot) in out.iter_mut().enumerate() {
                if slot.is_none() && raw.is_valid(i) {
                    *slot = Some(column.violation(
                        ErrorCode::InvalidType,
                        format!("a {} is not a {}", raw.data_type(), column.data_type),
                    ));
                }
            }
            Ok(arrow_array::new_null_array(&target, raw.len()))
        };
        match (self, &target) {
            (Shape::Struct(children), DataType::Struct(fields)) => {
                let Some(s) = raw.as_struct_opt() else {
                    return wrong_shape(out);
                };
                let mut typed = Vec::with_capacity(children.len());
                for (c, f) in children.iter().zip(fields.iter()) {
                    let part = match s.column_by_name(f.name()) {
                        Some(a) => part(c, a, s.nulls(), out)?,
                        None => arrow_array::new_null_array(f.data_type(), s.len()),
                    };
                    typed.push(part);
                }
                Ok(Arc::new(StructArray::try_new(
                    fields.clone(),
                    typed,
                    s.nulls().cloned(),
                )?))
            }
            (Shape::List(element), DataType::List(f)) => {
                let Some(l) = raw.as_list_opt::<i32>() else {
                    return wrong_shape(out);
                };
                let offsets = l.offsets().clone();
                let rows = row_of_element(&offsets);
                let typed = elements(element, l.values(), &rows, l.nulls(), out)?;
                Ok(Arc::new(ListArray::try_new(
                    f.clone(),
                    offsets,
                    typed,
                    l.nulls().cloned(),
                )?))
            }
            (Shape::Map(key, value), DataType::Map(entries, sorted)) => {
                let Some(m) = raw.as_map_opt() else {
                    return wrong_shape(out);
                };
                let DataType::Struct(kv) = entries.data_type() else {
                    return wrong_shape(out);
                };
                let rows = row_of_element(m.offsets());
                let keys = elements(key, m.keys(), &rows, m.nulls(), out)?;
                let values = elements(value, m.values(), &rows, m.nulls(), out)?;
                let entries_array = StructArray::try_new(kv.clone(), vec![keys, values], None)?;
                Ok(Arc::new(MapArray::try_new(
                    entries.clone(),
                    m.offsets().clone(),
                    entries_array,
                    m.nulls().cloned(),
                    *sorted,
                )?))
            }
            _ => wrong_shape(out),
        }
    }
}

/// The row each element of a list/map belongs to.
fn row_of_element(offsets: &arrow::buffer::OffsetBuffer<i32>) -> Vec<usize> {
    let mut rows = Vec::with_capacity(offsets.last().copied().unwrap_or(0).max(0) as usize);
    for (r, w) in offsets.windows(2).enumerate() {
        rows.extend(std::iter::repeat_n(r, (w[1] - w[0]).max(0) as usize));
    }
    rows
}

/// Coerces and checks a child array that has one value per row of its parent; its violations
/// land on rows where the parent is valid.
fn part(
    c: &ColumnContract,
    raw: &ArrayRef,
    parent_nulls: Option<&arrow::buffer::NullBuffer>,
    out: &mut [Option<Violation>],
) -> Result<ArrayRef, ArrowError> {
    let mut own = vec![None; raw.len()];
    let typed = c.coerce(raw, &mut own)?;
    c.check(&typed, &mut own)?;
    for (i, v) in own.into_iter().enumerate() {
        let parent_valid = parent_nulls.is_none_or(|n| n.is_valid(i));
        if let (Some(v), true) = (v, parent_valid) {
            if let Some(slot) = out.get_mut(i) {
                slot.get_or_insert(v);
            }
        }
    }
    Ok(typed)
}

/// Coerces and checks the elements of lists/maps; an element's violation lands on its row
/// (when the row is valid), naming the element's position.
fn elements(
    c: &ColumnContract,
    raw: &ArrayRef,
    rows: &[usize],
    row_nulls: Option<&arrow::buffer::NullBuffer>,
    out: &mut [Option<Violation>],
) -> Result<ArrayRef, ArrowError> {
    let mut own = vec![None; raw.len()];
    let typed = c.coerce(raw, &mut own)?;
    c.check(&typed, &mut own)?;
    for (e, v) in own.into_iter().enumerate() {
        let (Some(mut v), Some(&row)) = (v, rows.get(e)) else {
            continue;
        };
        if row_nulls.is_none_or(|n| n.is_valid(row)) && out[row].is_none() {
            let first = rows.iter().position(|&r| r == row).unwrap_or(e);
            v.message = format!("element {}: {}", e - first, v.message);
            out[row] = Some(v);
        }
    }
    Ok(typed)
}

/// `ty` with every nested field nullable (the type rows are checked in).
pub fn relaxed(ty: &DataType) -> DataType {
    let field = |f: &FieldRef| -> FieldRef {
        Arc::new(
            f.as_ref()
                .clone()
                .with_data_type(relaxed(f.data_type()))
                .with_nullable(true),
        )
    };
    match ty {
        DataType::Struct(fields) => DataType::Struct(fields.iter().map(field).collect::<Fields>()),
        DataType::List(f) => DataType::List(field(f)),
        DataType::LargeList(f) => DataType::LargeList(field(f)),
        DataType::Map(entries, sorted) => {
            // Entries and keys stay non-null: arrow's map requires it.
            let DataType::Struct(kv) = entries.data_type() else {
                return ty.clone();
            };
            let key = Arc::new(
                kv[0]
                    .as_ref()
                    .clone()
                    .with_data_type(relaxed(kv[0].data_type())),
            );
            let kv: Fields = vec![key, field(&kv[1])].into();
            DataType::Map(
                Arc::new(
                    entries
                        .as_ref()
                        .clone()
                        .with_data_type(DataType::Struct(kv)),
                ),
                *sorted,
            )
        }
        other => other.clone(),
    }
}

/// `ty` with every primitive leaf as text (`Utf8`), structure kept, all nullable: what the JSON
/// decoder reads nested values into, so leaves are typed by the contract (exactly, or the row is
/// quarantined) rather than by the decoder.
pub fn text_leaves(ty: &DataType) -> DataType {
    let field = |f: &FieldRef, nullable: bool| -> FieldRef {
        Arc::new(
            Field::new(f.name(), text_leaves(f.data_type()), nullable)
                .with_metadata(f.metadata().clone()),
        )
    };
    match ty {
        DataType::Struct(fields) => {
            DataType::Struct(fields.iter().map(|f| field(f, true)).collect::<Fields>())
        }
        DataType::List(f) | DataType::LargeList(f) => DataType::List(field(f, true)),
        DataType::Map(entries, sorted) => {
            let DataType::Struct(kv) = entries.data_type() else {
                return DataType::Utf8;
            };
            let kv: Fields = vec![field(&kv[0], false), field(&kv[1], true)].into();
            DataType::Map(
                Arc::new(Field::new(entries.name(), DataType::Struct(kv), false)),
                *sorted,
            )
        }
        _ => DataType::Utf8,
    }
}

/// Puts the table's nested nullability back on an array checked in its relaxed type (rows
/// that broke it were filtered out; arrow validates that none is left).
pub fn restrict(array: ArrayRef, ty: &DataType) -> Result<ArrayRef, ArrowError> {
    if array.data_type() == ty {
        return Ok(array);
    }
    Ok(make_array(restrict_data(array.to_data(), ty)?))
}

fn restrict_data(data: ArrayData, ty: &DataType) -> Result<ArrayData, ArrowError> {
    let child_types: Vec<DataType> = match ty {
        DataType::Struct(fields) => fields.iter().map(|f| f.data_type().clone()).collect(),
        DataType::List(f) | DataType::LargeList(f) | DataType::Map(f, _) => {
            vec![f.data_type().clone()]
        }
        _ => return Ok(data),
    };
    let children = data
        .child_data()
        .iter()
        .zip(&child_types)
        .map(|(c, t)| restrict_data(c.clone(), t))
        .collect::<Result<Vec<_>, _>>()?;
    data.into_builder()
        .data_type(ty.clone())
        .child_data(children)
        .build()
}

/// Nested values written as JSON text in one field (CSV): decoded into `ty`'s text-leaf form.
/// A value that is not JSON of the right shape is a violation of its row.
pub(super) fn from_json_text(
    column: &ColumnContract,
    text: &StringArray,
    out: &mut [Option<Violation>],
) -> Result<ArrayRef, ArrowError> {
    let ty = text_leaves(&column.data_type);
    let schema = Arc::new(arrow_schema::Schema::new(vec![Field::new(
        "v",
        ty.clone(),
        true,
    )]));
    let decoder = || {
        arrow_json::ReaderBuilder::new(schema.clone())
            .with_coerce_primitive(true)
            .build_decoder()
    };
    // A value nested too deep never reaches the decoder (it recurses once per level).
    let too_deep: Vec<bool> = (0..text.len())
        .map(|i| {
            text.is_valid(i)
                && crate::violation::json_too_deep(text.value(i), &column.name).is_some()
        })
        .collect();
    let line = |i: usize| match text.is_valid(i) && !too_deep[i] {
        true => format!("{{\"v\":{}}}\n", text.value(i)),
        false => "{\"v\":null}\n".to_string(),
    };
    for (i, slot) in out.iter_mut().enumerate() {
        if too_deep[i] {
            slot.get_or_insert_with(|| {
                crate::violation::json_too_deep(text.value(i), &column.name).expect("checked above")
            });
        }
    }
    let mut d = decoder()?;
    let all: String = (0..text.len()).map(line).collect();
    if let Ok(Some(b)) = d
        .decode(all.as_bytes())
        .and_then(|_| d.flush())
        .map(|b| b.filter(|b| b.num_rows() == text.len()))
    {
        return Ok(b.column(0).clone());
    }
    // One value is not JSON of this shape: decode value by value; only its row is set aside.
    let mut parts = Vec::with_capacity(text.len());
    for (i, slot) in out.iter_mut().enumerate() {
        let mut d = decoder()?;
        let one = d
            .decode(line(i).as_bytes())
            .and_then(|_| d.flush())
            .ok()
            .flatten()
            .filter(|b| b.num_rows() == 1);
        match one {
            Some(b) => parts.push(b.column(0).clone()),
            None => {
                slot.get_or_insert(column.violation(
                    ErrorCode::InvalidType,
                    format!("not JSON of type {}", column.data_type),
                ));
                parts.push(arrow_array::new_null_array(&ty, 1));
            }
        }
    }
    let refs: Vec<&dyn Array> = parts.iter().map(|a| a.as_ref()).collect();
    if refs.is_empty() {
        return Ok(arrow_array::new_empty_array(&ty));
    }
    arrow::compute::concat(&refs)
}

/// Paths of struct fields a typed file has inside `column` that the table's type lacks
/// (`address.zip`; list elements and map values are walked too): reported like unknown columns.
pub fn unknown_nested_fields(column: &str, file: &DataType, table: &DataType) -> Vec<String> {
    let mut out = Vec::new();
    walk_unknown(column, file, table, &mut out);
    out
}

fn walk_unknown(path: &str, file: &DataType, table: &DataType, out: &mut Vec<String>) {
    match (file, table) {
        (DataType::Struct(f), DataType::Struct(t)) => {
            for ff in f.iter() {
                let p = format!("{path}.{}", ff.name());
                match t.iter().find(|tf| tf.name() == ff.name()) {
                    Some(tf) => walk_unknown(&p, ff.data_type(), tf.data_type(), out),
                    None => out.push(p),
                }
            }
        }
        (
            DataType::List(f) | DataType::LargeList(f),
            DataType::List(t) | DataType::LargeList(t),
        ) => walk_unknown(path, f.data_type(), t.data_type(), out),
        (DataType::Map(f, _), DataType::Map(t, _)) => {
            if let (DataType::Struct(fk), DataType::Struct(tk)) = (f.data_type(), t.data_type()) {
                walk_unknown(path, fk[1].data_type(), tk[1].data_type(), out);
            }
        }
        _ => {}
    }
}

/// Paths of keys a JSON value has inside `column` that the table's type lacks.
pub fn unknown_json_keys(column: &str, value: &serde_json::Value, table: &DataType) -> Vec<String> {
    let mut out = Vec::new();
    walk_json(column, value, table, &mut out);
    out
}

fn walk_json(path: &str, value: &serde_json::Value, table: &DataType, out: &mut Vec<String>) {
    use serde_json::Value;
    match (value, table) {
        (Value::Object(fields), DataType::Struct(t)) => {
            for (k, v) in fields {
                let p = format!("{path}.{k}");
                match t.iter().find(|tf| tf.name() == k) {
                    Some(tf) => walk_json(&p, v, tf.data_type(), out),
                    None if !out.contains(&p) => out.push(p),
                    None => {}
                }
            }
        }
        (Value::Array(items), DataType::List(t) | DataType::LargeList(t)) => {
            for v in items {
                walk_json(path, v, t.data_type(), out);
            }
        }
        (Value::Object(fields), DataType::Map(entries, _)) => {
            if let DataType::Struct(kv) = entries.data_type() {
                for v in fields.values() {
                    walk_json(path, v, kv[1].data_type(), out);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn st(fields: Vec<Field>) -> DataType {
        DataType::Struct(fields.into())
    }

    #[test]
    fn lists_struct_fields_the_table_lacks_by_path() {
        let table = st(vec![Field::new("a", DataType::Utf8, true)]);
        let file = st(vec![
            Field::new("a", DataType::Utf8, true),
            Field::new("b", st(vec![Field::new("c", DataType::Int32, true)]), true),
        ]);
        assert_eq!(
            unknown_nested_fields("s", &file, &table),
            vec!["s.b".to_string()]
        );
        let list = |t: DataType| DataType::List(Arc::new(Field::new("element", t, true)));
        assert_eq!(
            unknown_nested_fields("l", &list(file.clone()), &list(table.clone())),
            vec!["l.b".to_string()]
        );
        let v = serde_json::json!({"a": "x", "z": {"q": 1}});
        assert_eq!(unknown_json_keys("s", &v, &table), vec!["s.z".to_string()]);
    }
}

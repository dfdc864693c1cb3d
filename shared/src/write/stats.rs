//! Iceberg data-file statistics for a Parquet file Floe wrote: column sizes, value / null / NaN
//! counts and lower / upper bounds by field id, from the file's Parquet footer and the batches
//! written.
//!
//! The rules are iceberg-rust's own Parquet writer's (0.10, whose conversion is crate-private):
//! sizes and counts summed over row groups, leaves found by their Parquet field id, NaN counts for
//! every float and double field — nested ones too — counted from the Arrow values because Parquet
//! statistics leave NaN out. `streaming::tests` checks that both writers give the same `DataFile`
//! for the same batches.
//!
//! One rule differs, on purpose: a string or binary statistic longer than Parquet's truncation
//! length (64 bytes) is written truncated (the minimum as a prefix, the maximum as a prefix with
//! its last character incremented), which is still a valid bound, so it is kept. iceberg-rust
//! skips such row groups and takes the bound from the others: with the largest value in a
//! skipped row group the file's upper bound is *below* a stored value, and a reader that prunes
//! by bounds (`WHERE note > …`) silently misses the file.

use std::collections::{HashMap, HashSet};

use arrow_array::cast::AsArray;
use arrow_array::types::{Float32Type, Float64Type};
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field};
use iceberg::spec::{
    DataContentType, DataFileBuilder, DataFileFormat, Datum, PrimitiveType, Schema, Struct, Type,
};
use parquet::arrow::PARQUET_FIELD_ID_META_KEY;
use parquet::file::metadata::ParquetMetaData;
use parquet::file::statistics::Statistics;

/// NaN values per float / double field id, over every batch written to one file.
#[derive(Debug, Default)]
pub(super) struct NanCounts(HashMap<i32, u64>);

impl NanCounts {
    /// Counts the NaN values of `batch`'s float and double columns, nested ones included.
    pub(super) fn add(&mut self, batch: &RecordBatch) {
        for (field, column) in batch.schema().fields().iter().zip(batch.columns()) {
            self.visit(field, column);
        }
    }

    fn visit(&mut self, field: &Field, array: &ArrayRef) {
        let nans = match array.data_type() {
            DataType::Float32 => {
                count_nans(array.as_primitive::<Float32Type>().iter(), f32::is_nan)
            }
            DataType::Float64 => {
                count_nans(array.as_primitive::<Float64Type>().iter(), f64::is_nan)
            }
            DataType::Struct(fields) => {
                for (child, column) in fields.iter().zip(array.as_struct().columns()) {
                    self.visit(child, column);
                }
                return;
            }
            DataType::List(element) => return self.visit(element, array.as_list::<i32>().values()),
            DataType::LargeList(element) => {
                return self.visit(element, array.as_list::<i64>().values())
            }
            DataType::Map(entries, _) => {
                let map = array.as_map();
                if let DataType::Struct(kv) = entries.data_type() {
                    self.visit(&kv[0], map.keys());
                    self.visit(&kv[1], map.values());
                }
                return;
            }
            _ => return,
        };
        if let Some(id) = field_id(field) {
            *self.0.entry(id).or_insert(0) += nans;
        }
    }
}

fn count_nans<T: Copy>(values: impl Iterator<Item = Option<T>>, is_nan: fn(T) -> bool) -> u64 {
    values.filter(|v| v.is_some_and(is_nan)).count() as u64
}

fn field_id(field: &Field) -> Option<i32> {
    field
        .metadata()
        .get(PARQUET_FIELD_ID_META_KEY)?
        .parse()
        .ok()
}

/// The `DataFile` (content, format, counts, sizes, bounds, split offsets) of a Parquet file of
/// `schema` written to `path`, `size` bytes long, with footer `metadata`. The partition is left
/// empty: iceberg-rust's data-file writer sets it.
pub(super) fn data_file_builder(
    schema: &Schema,
    metadata: &ParquetMetaData,
    size: u64,
    path: String,
    nan_counts: NanCounts,
) -> DataFileBuilder {
    let mut sizes: HashMap<i32, u64> = HashMap::new();
    let mut values: HashMap<i32, u64> = HashMap::new();
    let mut nulls: HashMap<i32, u64> = HashMap::new();
    let mut bounds = Bounds::default();
    for row_group in metadata.row_groups() {
        for column in row_group.columns() {
            let info = column.column_descr().self_type().get_basic_info();
            if !info.has_id() {
                continue;
            }
            let id = info.id();
            let Some(Type::Primitive(ty)) = schema.field_by_id(id).map(|f| f.field_type.as_ref())
            else {
                continue;
            };
            *sizes.entry(id).or_insert(0) += column.compressed_size() as u64;
            *values.entry(id).or_insert(0) += column.num_values() as u64;
            match column.statistics() {
                Some(stats) => {
                    if let Some(n) = stats.null_count_opt() {
                        *nulls.entry(id).or_insert(0) += n;
                    }
                    bounds.update(id, ty, stats);
                }
                // A row group without statistics could hold any value: no bound for the file.
                None => {
                    bounds.unknown.insert(id);
                }
            }
        }
    }
    bounds.drop_unknown();
    let mut builder = DataFileBuilder::default();
    builder
        .content(DataContentType::Data)
        .file_path(path)
        .file_format(DataFileFormat::Parquet)
        .partition(Struct::empty())
        .record_count(metadata.file_metadata().num_rows() as u64)
        .file_size_in_bytes(size)
        .column_sizes(sizes)
        .value_counts(values)
        .null_value_counts(nulls)
        .nan_value_counts(nan_counts.0)
        .lower_bounds(bounds.lower)
        .upper_bounds(bounds.upper)
        .split_offsets(Some(
            metadata
                .row_groups()
                .iter()
                .filter_map(|g| g.file_offset())
                .collect(),
        ));
    builder
}

/// The smallest lower and largest upper bound per field id over a file's row groups.
#[derive(Default)]
struct Bounds {
    lower: HashMap<i32, Datum>,
    upper: HashMap<i32, Datum>,
    /// Fields with a row group that has no statistics.
    unknown: HashSet<i32>,
}

impl Bounds {
    fn drop_unknown(&mut self) {
        for id in &self.unknown {
            self.lower.remove(id);
            self.upper.remove(id);
        }
    }

    /// Widens the bounds of `id` by a row group's statistics, exact or truncated. A statistic
    /// that does not convert leaves the field without bounds (they are optional; a wrong one is
    /// not).
    fn update(&mut self, id: i32, ty: &PrimitiveType, stats: &Statistics) {
        match (bound(ty, stats, Side::Min), bound(ty, stats, Side::Max)) {
            (Ok(min), Ok(max)) => {
                if let Some(min) = min {
                    keep(&mut self.lower, id, min, |old, new| new < old);
                }
                if let Some(max) = max {
                    keep(&mut self.upper, id, max, |old, new| new > old);
                }
            }
            _ => {
                self.unknown.insert(id);
            }
        }
    }
}

fn keep(map: &mut HashMap<i32, Datum>, id: i32, new: Datum, better: fn(&Datum, &Datum) -> bool) {
    match map.get_mut(&id) {
        Some(old) if better(old, &new) => *old = new,
        Some(_) => {}
        None => {
            map.insert(id, new);
        }
    }
}

#[derive(Clone, Copy)]
enum Side {
    Min,
    Max,
}

/// One side of a column chunk's statistics as an Iceberg value of `ty`. Parquet's plain encoding
/// of a statistic is Iceberg's single-value serialisation for every type but a decimal stored as
/// INT32 / INT64 (little-endian there, big-endian two's complement in Iceberg).
fn bound(ty: &PrimitiveType, stats: &Statistics, side: Side) -> iceberg::Result<Option<Datum>> {
    let bytes = match side {
        Side::Min => stats.min_bytes_opt(),
        Side::Max => stats.max_bytes_opt(),
    };
    let Some(bytes) = bytes else {
        return Ok(None);
    };
    let unscaled = match (ty, stats) {
        (PrimitiveType::Decimal { .. }, Statistics::Int32(_)) => {
            i128::from(i32::from_le_bytes(bytes.try_into()?))
        }
        (PrimitiveType::Decimal { .. }, Statistics::Int64(_)) => {
            i128::from(i64::from_le_bytes(bytes.try_into()?))
        }
        _ => return Datum::try_from_bytes(bytes, ty.clone()).map(Some),
    };
    Datum::try_from_bytes(&unscaled.to_be_bytes(), ty.clone()).map(Some)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{Float64Array, ListArray, StructArray};
    use arrow_schema::{Fields, Schema as ArrowSchema};
    use iceberg::spec::PrimitiveLiteral;

    use super::*;

    fn with_id(field: Field, id: i32) -> Field {
        field.with_metadata(HashMap::from([(
            PARQUET_FIELD_ID_META_KEY.to_string(),
            id.to_string(),
        )]))
    }

    #[test]
    fn nans_are_counted_per_field_id_at_every_depth_and_nulls_are_not_nans() {
        let x = with_id(Field::new("x", DataType::Float64, true), 1);
        let element = Arc::new(with_id(Field::new("element", DataType::Float64, true), 3));
        let inner = with_id(Field::new("inner", DataType::Float64, true), 4);
        let list_field = with_id(Field::new("l", DataType::List(element.clone()), true), 2);
        let struct_field = with_id(
            Field::new(
                "s",
                DataType::Struct(Fields::from(vec![inner.clone()])),
                true,
            ),
            5,
        );
        let xs: ArrayRef = Arc::new(Float64Array::from(vec![Some(f64::NAN), None, Some(1.0)]));
        let list: ArrayRef = Arc::new(ListArray::new(
            element,
            arrow::buffer::OffsetBuffer::from_lengths([2, 0, 1]),
            Arc::new(Float64Array::from(vec![f64::NAN, f64::NAN, 0.5])),
            None,
        ));
        let inner_values: ArrayRef = Arc::new(Float64Array::from(vec![1.0, 2.0, 3.0]));
        let st: ArrayRef = Arc::new(StructArray::new(
            Fields::from(vec![inner]),
            vec![inner_values],
            None,
        ));
        let schema = Arc::new(ArrowSchema::new(vec![x, list_field, struct_field]));
        let batch = RecordBatch::try_new(schema, vec![xs, list, st]).unwrap();
        let mut counts = NanCounts::default();
        counts.add(&batch);
        counts.add(&batch);
        assert_eq!(counts.0, HashMap::from([(1, 2), (3, 4), (4, 0)]));
    }

    #[test]
    fn decimal_bounds_stored_as_integers_become_unscaled_iceberg_decimals() {
        let ty = PrimitiveType::Decimal {
            precision: 9,
            scale: 2,
        };
        let stats = Statistics::int32(Some(-150), Some(12345), None, Some(0), false);
        let min = bound(&ty, &stats, Side::Min).unwrap().unwrap();
        let max = bound(&ty, &stats, Side::Max).unwrap().unwrap();
        assert_eq!(min.literal(), &PrimitiveLiteral::Int128(-150));
        assert_eq!(max.literal(), &PrimitiveLiteral::Int128(12345));
        assert_eq!(min.data_type(), &ty);
    }

    #[test]
    fn a_statistic_that_does_not_convert_leaves_the_field_without_bounds() {
        use parquet::data_type::{ByteArray, FixedLenByteArray};
        let mut bounds = Bounds::default();
        let good = Statistics::byte_array(
            Some(ByteArray::from("a")),
            Some(ByteArray::from("b")),
            None,
            Some(0),
            false,
        );
        bounds.update(1, &PrimitiveType::String, &good);
        // A 15-byte value is no UUID.
        let short = FixedLenByteArray::from(vec![7u8; 15]);
        let bad = Statistics::fixed_len_byte_array(
            Some(short.clone()),
            Some(short),
            None,
            Some(0),
            false,
        );
        bounds.update(2, &PrimitiveType::Uuid, &bad);
        bounds.drop_unknown();
        assert!(bounds.lower.contains_key(&1) && bounds.upper.contains_key(&1));
        assert!(!bounds.lower.contains_key(&2) && !bounds.upper.contains_key(&2));
    }
}

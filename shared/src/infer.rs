//! Type inference from data: what the values of one field look like, merged over every value
//! seen, as the narrowest Iceberg type that holds them all. Used by schema evolution (a new
//! column gets the type its values have, not always `string`) and by `floe spec infer`.
//!
//! Text (CSV cells, JSON strings): `true`/`false` → boolean, integers → long, other numbers →
//! double, `YYYY-MM-DD` → date, RFC 3339 with an offset → timestamptz, without → timestamp,
//! else string. JSON numbers: integers → long, others → double; objects → struct, arrays → list.
//! Typed input (Parquet, Avro) maps its Arrow types. Values that disagree widen: long + double →
//! double, anything else that differs → string (a struct merges its fields).

use std::sync::Arc;

use arrow_schema::{DataType, TimeUnit};
use iceberg::spec::{ListType, MapType, NestedField, PrimitiveType, StructType, Type};

/// The shape of the values seen for one field.
#[derive(Debug, Clone, PartialEq)]
pub enum Seen {
    /// Only nulls (or nothing): no type yet.
    Null,
    /// A primitive.
    Primitive(PrimitiveType),
    /// Objects / records: fields in order of first appearance.
    Struct(Vec<(String, Seen)>),
    /// Arrays.
    List(Box<Seen>),
    /// Typed maps (Parquet/Avro).
    Map(Box<Seen>, Box<Seen>),
}

impl Seen {
    /// The type of one text value.
    pub fn text(s: &str) -> Seen {
        let t = s.trim();
        if t.is_empty() {
            return Seen::Null;
        }
        let p = if t == "true" || t == "false" {
            PrimitiveType::Boolean
        } else if t.parse::<i32>().is_ok() && !has_leading_zero(t) {
            PrimitiveType::Int
        } else if t.parse::<i64>().is_ok() && !has_leading_zero(t) {
            PrimitiveType::Long
        } else if t.parse::<f64>().is_ok_and(f64::is_finite) && t.contains(['.', 'e', 'E']) {
            PrimitiveType::Double
        } else if chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d").is_ok() && t.len() == 10 {
            PrimitiveType::Date
        } else if chrono::DateTime::parse_from_rfc3339(t).is_ok() {
            PrimitiveType::Timestamptz
        } else if chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S%.f").is_ok()
            || chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S%.f").is_ok()
        {
            PrimitiveType::Timestamp
        } else {
            PrimitiveType::String
        };
        Seen::Primitive(p)
    }

    /// The type of one JSON value.
    pub fn json(v: &serde_json::Value) -> Seen {
        use serde_json::Value;
        match v {
            Value::Null => Seen::Null,
            Value::Bool(_) => Seen::Primitive(PrimitiveType::Boolean),
            Value::Number(n) if n.as_i64().is_some_and(|i| i32::try_from(i).is_ok()) => {
                Seen::Primitive(PrimitiveType::Int)
            }
            Value::Number(n) if n.as_i64().is_some() => Seen::Primitive(PrimitiveType::Long),
            Value::Number(_) => Seen::Primitive(PrimitiveType::Double),
            Value::String(s) => match Seen::text(s) {
                // A quoted number stays text: the producer chose a string.
                Seen::Primitive(
                    PrimitiveType::Int
                    | PrimitiveType::Long
                    | PrimitiveType::Double
                    | PrimitiveType::Boolean,
                ) => Seen::Primitive(PrimitiveType::String),
                Seen::Null => Seen::Primitive(PrimitiveType::String),
                other => other,
            },
            Value::Array(items) => Seen::List(Box::new(
                items.iter().map(Seen::json).fold(Seen::Null, Seen::merge),
            )),
            Value::Object(fields) => Seen::Struct(
                fields
                    .iter()
                    .map(|(k, v)| (k.clone(), Seen::json(v)))
                    .collect(),
            ),
        }
    }

    /// The type of a typed column, from its field: a 16-byte fixed value marked as a UUID (Arrow's
    /// `arrow.uuid` extension, Avro's `uuid` logical type) is a `uuid`.
    pub fn arrow_field(f: &arrow_schema::Field) -> Seen {
        let uuid = f
            .metadata()
            .get("ARROW:extension:name")
            .is_some_and(|n| n == "arrow.uuid");
        match f.data_type() {
            DataType::FixedSizeBinary(16) if uuid => Seen::Primitive(PrimitiveType::Uuid),
            dt => Seen::arrow(dt),
        }
    }

    /// The type of a typed (Parquet/Avro) column.
    pub fn arrow(dt: &DataType) -> Seen {
        let p = |p| Seen::Primitive(p);
        match dt {
            DataType::Null => Seen::Null,
            DataType::Boolean => p(PrimitiveType::Boolean),
            DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::UInt8
            | DataType::UInt16 => p(PrimitiveType::Int),
            DataType::Int64 | DataType::UInt32 => p(PrimitiveType::Long),
            DataType::Float16 | DataType::Float32 => p(PrimitiveType::Float),
            DataType::Float64 => p(PrimitiveType::Double),
            DataType::Decimal32(pr, s)
            | DataType::Decimal64(pr, s)
            | DataType::Decimal128(pr, s)
                if *pr <= 38 && *s >= 0 =>
            {
                p(PrimitiveType::Decimal {
                    precision: *pr as u32,
                    scale: *s as u32,
                })
            }
            DataType::Date32 | DataType::Date64 => p(PrimitiveType::Date),
            DataType::Time32(_) | DataType::Time64(_) => p(PrimitiveType::Time),
            DataType::Timestamp(unit, tz) => match (unit, tz.is_some()) {
                (TimeUnit::Nanosecond, true) => p(PrimitiveType::TimestamptzNs),
                (TimeUnit::Nanosecond, false) => p(PrimitiveType::TimestampNs),
                (_, true) => p(PrimitiveType::Timestamptz),
                (_, false) => p(PrimitiveType::Timestamp),
            },
            DataType::FixedSizeBinary(n) => p(PrimitiveType::Fixed(*n as u64)),
            DataType::Binary | DataType::LargeBinary | DataType::BinaryView => {
                p(PrimitiveType::Binary)
            }
            DataType::Struct(fields) => Seen::Struct(
                fields
                    .iter()
                    .map(|f| (f.name().clone(), Seen::arrow(f.data_type())))
                    .collect(),
            ),
            DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => {
                Seen::List(Box::new(Seen::arrow(f.data_type())))
            }
            DataType::Map(entries, _) => match entries.data_type() {
                DataType::Struct(kv) if kv.len() == 2 => Seen::Map(
                    Box::new(Seen::arrow(kv[0].data_type())),
                    Box::new(Seen::arrow(kv[1].data_type())),
                ),
                _ => p(PrimitiveType::String),
            },
            DataType::Dictionary(_, v) => Seen::arrow(v),
            _ => p(PrimitiveType::String),
        }
    }

    /// Integers that fit `int` as `long`: what a new column of text integers gets (values
    /// observed as `int` only so an existing `int` column can tell when it needs `long`).
    pub fn widen_ints(&self) -> Seen {
        match self {
            Seen::Primitive(PrimitiveType::Int) => Seen::Primitive(PrimitiveType::Long),
            Seen::Struct(f) => {
                Seen::Struct(f.iter().map(|(n, s)| (n.clone(), s.widen_ints())).collect())
            }
            Seen::List(e) => Seen::List(Box::new(e.widen_ints())),
            Seen::Map(k, v) => Seen::Map(Box::new(k.widen_ints()), Box::new(v.widen_ints())),
            other => other.clone(),
        }
    }

    /// The narrowest shape holding both.
    pub fn merge(self, other: Seen) -> Seen {
        use PrimitiveType as P;
        match (self, other) {
            (Seen::Null, x) | (x, Seen::Null) => x,
            (Seen::Primitive(a), Seen::Primitive(b)) if a == b => Seen::Primitive(a),
            (Seen::Primitive(a), Seen::Primitive(b)) => Seen::Primitive(match (a, b) {
                (P::Int, P::Long) | (P::Long, P::Int) => P::Long,
                (P::Float, P::Double) | (P::Double, P::Float) => P::Double,
                (P::Long | P::Int, P::Double) | (P::Double, P::Long | P::Int) => P::Double,
                _ => P::String,
            }),
            (Seen::Struct(mut a), Seen::Struct(b)) => {
                for (name, seen) in b {
                    match a.iter_mut().find(|(n, _)| *n == name) {
                        Some((_, s)) => *s = std::mem::replace(s, Seen::Null).merge(seen),
                        None => a.push((name, seen)),
                    }
                }
                Seen::Struct(a)
            }
            (Seen::List(a), Seen::List(b)) => Seen::List(Box::new(a.merge(*b))),
            (Seen::Map(ka, va), Seen::Map(kb, vb)) => {
                Seen::Map(Box::new(ka.merge(*kb)), Box::new(va.merge(*vb)))
            }
            _ => Seen::Primitive(P::String),
        }
    }

    /// As an Iceberg type (nulls only: string); nested ids from `next_id` on.
    pub fn to_type(&self, next_id: &mut i32) -> Type {
        fn take(next_id: &mut i32) -> i32 {
            let i = *next_id;
            *next_id += 1;
            i
        }
        match self {
            Seen::Null => Type::Primitive(PrimitiveType::String),
            Seen::Primitive(p) => Type::Primitive(p.clone()),
            Seen::Struct(fields) => {
                // Depth first, as `types::parse_type` numbers a written type.
                let mut out = Vec::with_capacity(fields.len());
                for (name, s) in fields {
                    let i = take(next_id);
                    out.push(Arc::new(NestedField::optional(i, name, s.to_type(next_id))));
                }
                Type::Struct(StructType::new(out))
            }
            Seen::List(element) => {
                let i = take(next_id);
                Type::List(ListType::new(Arc::new(NestedField::list_element(
                    i,
                    element.to_type(next_id),
                    false,
                ))))
            }
            Seen::Map(k, v) => {
                let (ki, vi) = (take(next_id), take(next_id));
                Type::Map(MapType::new(
                    Arc::new(NestedField::map_key_element(ki, k.to_type(next_id))),
                    Arc::new(NestedField::map_value_element(
                        vi,
                        v.to_type(next_id),
                        false,
                    )),
                ))
            }
        }
    }
}

/// What one column's values look like over a sample (`floe spec infer`): primitive values are
/// counted per type, so one bad value does not turn a `long` column into `string` — the type
/// that holds at least [`MAJORITY`] of the values wins (the rest would be quarantined, which is
/// the point of a contract). JSON objects and arrays are profiled part by part, so the same vote
/// holds at every nested leaf.
#[derive(Debug, Clone, Default)]
pub struct ColumnProfile {
    /// Values seen (nulls included).
    pub values: u64,
    /// Nulls (or empty CSV fields) among them.
    pub nulls: u64,
    primitives: Vec<(PrimitiveType, u64)>,
    /// JSON objects seen, and their fields' profiles.
    objects: u64,
    fields: Vec<(String, ColumnProfile)>,
    /// JSON arrays seen, and their elements' profile.
    arrays: u64,
    element: Option<Box<ColumnProfile>>,
    /// From a typed file: its type and nullability.
    typed: Option<(Seen, bool)>,
}

/// Share of a column's values a type must hold to be chosen.
pub const MAJORITY: f64 = 0.9;

impl ColumnProfile {
    /// Counts one text value (or any value already typed).
    pub fn observe(&mut self, seen: Seen) {
        self.values += 1;
        match seen {
            Seen::Null => self.nulls += 1,
            Seen::Primitive(p) => self.count(p, 1),
            // Typed nested shapes without values: remembered as a typed shape.
            other => self.observe_typed(other, true),
        }
    }

    /// Counts one JSON value, part by part.
    pub fn observe_json(&mut self, v: &serde_json::Value) {
        use serde_json::Value;
        match v {
            Value::Object(map) => {
                self.values += 1;
                self.objects += 1;
                for (k, x) in map {
                    self.field(k).observe_json(x);
                }
            }
            Value::Array(items) => {
                self.values += 1;
                self.arrays += 1;
                let e = self.element.get_or_insert_with(Default::default);
                for x in items {
                    e.observe_json(x);
                }
            }
            other => self.observe(Seen::json(other)),
        }
    }

    fn count(&mut self, p: PrimitiveType, n: u64) {
        match self.primitives.iter_mut().find(|(q, _)| *q == p) {
            Some((_, m)) => *m += n,
            None => self.primitives.push((p, n)),
        }
    }

    fn field(&mut self, name: &str) -> &mut ColumnProfile {
        let i = match self.fields.iter().position(|(n, _)| n == name) {
            Some(i) => i,
            None => {
                self.fields
                    .push((name.to_string(), ColumnProfile::default()));
                self.fields.len() - 1
            }
        };
        &mut self.fields[i].1
    }

    /// A typed file's column (its schema, no values).
    pub fn observe_typed(&mut self, seen: Seen, nullable: bool) {
        self.typed = Some(match self.typed.take() {
            Some((s, n)) => (s.merge(seen), n || nullable),
            None => (seen, nullable),
        });
    }

    /// Merges another object's profile of the same column.
    pub fn absorb(&mut self, other: ColumnProfile) {
        self.values += other.values;
        self.nulls += other.nulls;
        for (p, n) in other.primitives {
            self.count(p, n);
        }
        self.objects += other.objects;
        for (name, f) in other.fields {
            self.field(&name).absorb(f);
        }
        self.arrays += other.arrays;
        if let Some(e) = other.element {
            self.element.get_or_insert_with(Default::default).absorb(*e);
        }
        if let Some((s, n)) = other.typed {
            self.observe_typed(s, n);
        }
    }

    /// The shape to declare, and whether the column may hold nulls.
    pub fn decide(&self) -> (Seen, bool) {
        let text_nullable = self.nulls > 0;
        if let Some((s, nullable)) = &self.typed {
            // A typed file's schema wins (absent from some objects: nullable).
            return (s.clone(), *nullable || text_nullable);
        }
        let scalars: u64 = self.primitives.iter().map(|(_, n)| n).sum();
        let seen = if self.objects > scalars && self.objects >= self.arrays {
            Seen::Struct(
                self.fields
                    .iter()
                    .map(|(n, f)| (n.clone(), f.decide().0))
                    .collect(),
            )
        } else if self.arrays > scalars {
            Seen::List(Box::new(
                self.element.as_ref().map_or(Seen::Null, |e| e.decide().0),
            ))
        } else {
            vote(&self.primitives)
        };
        (seen, text_nullable)
    }
}

/// The narrowest type holding at least [`MAJORITY`] of the values.
fn vote(counts: &[(PrimitiveType, u64)]) -> Seen {
    use PrimitiveType as P;
    let total: u64 = counts.iter().map(|(_, n)| n).sum();
    if total == 0 {
        return Seen::Null;
    }
    let holds = |target: &P, p: &P| match (target, p) {
        (t, p) if t == p => true,
        (P::Long, P::Int) | (P::Double, P::Int | P::Long) => true,
        _ => false,
    };
    for target in [
        P::Boolean,
        P::Int,
        P::Long,
        P::Double,
        P::Date,
        P::Timestamptz,
        P::Timestamp,
    ] {
        let held: u64 = counts
            .iter()
            .filter(|(p, _)| holds(&target, p))
            .map(|(_, n)| n)
            .sum();
        if held as f64 >= MAJORITY * total as f64 {
            return Seen::Primitive(target);
        }
    }
    Seen::Primitive(P::String)
}

/// `007`: an identifier, not a number.
fn has_leading_zero(t: &str) -> bool {
    let digits = t.trim_start_matches(['-', '+']);
    digits.len() > 1 && digits.starts_with('0')
}

/// The Iceberg spec's type text for `ty` (as table specs write it).
pub fn type_text(ty: &Type) -> String {
    match ty {
        Type::Primitive(PrimitiveType::Fixed(n)) => format!("fixed[{n}]"),
        Type::Primitive(p) => p.to_string(),
        Type::Struct(s) => format!(
            "struct<{}>",
            s.fields()
                .iter()
                .map(|f| format!("{}: {}", f.name, type_text(&f.field_type)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Type::List(l) => format!("list<{}>", type_text(&l.element_field.field_type)),
        Type::Map(m) => format!(
            "map<{}, {}>",
            type_text(&m.key_field.field_type),
            type_text(&m.value_field.field_type)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn merged_text(values: &[&str]) -> Seen {
        values
            .iter()
            .map(|v| Seen::text(v))
            .fold(Seen::Null, Seen::merge)
    }

    #[test]
    fn text_values_widen_to_the_narrowest_common_type() {
        let p = |p| Seen::Primitive(p);
        assert_eq!(merged_text(&["1", "-2", ""]), p(PrimitiveType::Int));
        assert_eq!(merged_text(&["1", "3000000000"]), p(PrimitiveType::Long));
        assert_eq!(merged_text(&["1", "2.5"]), p(PrimitiveType::Double));
        assert_eq!(merged_text(&["1", "x"]), p(PrimitiveType::String));
        assert_eq!(merged_text(&["007"]), p(PrimitiveType::String));
        assert_eq!(merged_text(&["true", "false"]), p(PrimitiveType::Boolean));
        assert_eq!(merged_text(&["2024-01-31"]), p(PrimitiveType::Date));
        assert_eq!(
            merged_text(&["2024-01-31T10:00:00Z", "2024-02-01T00:00:00+02:00"]),
            p(PrimitiveType::Timestamptz)
        );
        assert_eq!(
            merged_text(&["2024-01-31T10:00:00"]),
            p(PrimitiveType::Timestamp)
        );
        assert_eq!(merged_text(&["", ""]), Seen::Null);
    }

    #[test]
    fn one_bad_value_does_not_change_the_voted_type() {
        let mut c = ColumnProfile::default();
        for v in (0..50)
            .map(|i| i.to_string())
            .chain(["n/a".to_string(), String::new()])
        {
            c.observe(Seen::text(&v));
        }
        assert_eq!(c.decide(), (Seen::Primitive(PrimitiveType::Int), true));
        let mut s = ColumnProfile::default();
        for v in ["a", "b", "1", "2"] {
            s.observe(Seen::text(v));
        }
        assert_eq!(s.decide().0, Seen::Primitive(PrimitiveType::String));
        // The same vote at a nested leaf: one "many" among 20 quantities.
        let mut n = ColumnProfile::default();
        for i in 0..20 {
            let qty = if i == 7 {
                serde_json::json!("many")
            } else {
                serde_json::json!(i)
            };
            n.observe_json(&serde_json::json!([{"sku": "a", "qty": qty}]));
        }
        assert_eq!(
            type_text(&n.decide().0.widen_ints().to_type(&mut 1)),
            "list<struct<sku: string, qty: long>>"
        );
    }

    #[test]
    fn json_objects_merge_into_structs_and_print_as_spec_types() {
        let s = [
            json!({"a": 1, "b": {"c": "x"}, "l": [1, 2]}),
            json!({"a": 2.5, "b": {"d": true}, "l": []}),
        ]
        .iter()
        .map(Seen::json)
        .fold(Seen::Null, Seen::merge);
        let ty = s.widen_ints().to_type(&mut 1);
        assert_eq!(
            type_text(&ty),
            "struct<a: double, b: struct<c: string, d: boolean>, l: list<long>>"
        );
        let mut next = 1;
        assert_eq!(
            crate::types::parse_type(&type_text(&ty), &mut next).unwrap(),
            ty,
            "the text parses back to the same type"
        );
    }
}

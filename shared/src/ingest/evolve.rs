//! Typed schema evolution (`unknown_columns = "evolve"`). A pre-pass over the object observes
//! what its values look like ([`crate::infer::Seen`]); the plan compares that with the table:
//! - a column or nested field the table lacks is added with the type its values have (integers
//!   as `long`, numbers as `double`, objects as `struct`, arrays as `list`, typed Parquet/Avro
//!   columns as their type; nulls only: `string`);
//! - the safe Iceberg promotions are applied when the data needs them: `int` → `long` (a typed
//!   64-bit column, or an integer out of `int` range), `float` → `double` and decimal precision
//!   widening (typed columns);
//! - a typed column that the table's type cannot hold and no promotion fixes (a fraction into an
//!   integer column, another decimal scale, another shape) refuses the object as
//!   `incompatible_type`.
//!
//! Additions commit through iceberg's `UpdateSchemaAction` (fresh field ids); promotions as a new
//! schema through the catalog's compare-and-swap (`crate::swap`; iceberg-rust has no promotion
//! action). Both retry on conflict after reloading, so concurrent evolutions converge.

use iceberg::spec::{NestedFieldRef, PrimitiveType, Schema, Type};

use crate::infer::Seen;

/// What the observed data asks of the table schema.
#[derive(Debug, Default, PartialEq)]
pub struct Plan {
    /// New fields: the parent's path (`None`: a top-level column), the name, the type.
    pub add: Vec<(Option<String>, String, Type)>,
    /// Promotions: field id, path (for messages), new type.
    pub promote: Vec<(i32, String, PrimitiveType)>,
}

impl Plan {
    /// Nothing to change.
    pub fn is_empty(&self) -> bool {
        self.add.is_empty() && self.promote.is_empty()
    }
}

/// A change the table's types cannot take.
#[derive(Debug, Clone, PartialEq)]
pub struct Incompatible {
    /// Path of the field.
    pub path: String,
    /// Why.
    pub message: String,
}

/// Plans the changes `observed` (top-level column → shape) needs; `typed` is true when the
/// shapes come from the file's own types (Parquet, Avro) rather than from text values.
pub fn plan(
    schema: &Schema,
    observed: &[(String, Seen)],
    typed: bool,
) -> Result<Plan, Incompatible> {
    let mut plan = Plan::default();
    walk_struct(
        schema.as_struct().fields(),
        None,
        observed,
        typed,
        &mut plan,
    )?;
    Ok(plan)
}

fn walk_struct(
    fields: &[NestedFieldRef],
    parent: Option<&str>,
    observed: &[(String, Seen)],
    typed: bool,
    plan: &mut Plan,
) -> Result<(), Incompatible> {
    for (name, seen) in observed {
        let path = match parent {
            Some(p) => format!("{p}.{name}"),
            None => name.clone(),
        };
        match fields.iter().find(|f| &f.name == name) {
            None => {
                let seen = if typed {
                    seen.clone()
                } else {
                    seen.widen_ints()
                };
                plan.add.push((
                    parent.map(str::to_string),
                    name.clone(),
                    seen.to_type(&mut 0),
                ));
            }
            Some(f) => walk(f, &path, seen, typed, plan)?,
        }
    }
    Ok(())
}

fn walk(
    field: &NestedFieldRef,
    path: &str,
    seen: &Seen,
    typed: bool,
    plan: &mut Plan,
) -> Result<(), Incompatible> {
    let incompatible = |message: String| Incompatible {
        path: path.to_string(),
        message,
    };
    match (field.field_type.as_ref(), seen) {
        (_, Seen::Null) => Ok(()),
        (Type::Primitive(table), Seen::Primitive(data)) => {
            if let Some(to) = promotion(table, data, typed).map_err(incompatible)? {
                plan.promote.push((field.id, path.to_string(), to));
            }
            Ok(())
        }
        (Type::Struct(s), Seen::Struct(children)) => {
            walk_struct(s.fields(), Some(path), children, typed, plan)
        }
        (Type::List(l), Seen::List(element)) => match element.as_ref() {
            // New fields of a list of structs go into the element (iceberg resolves the list).
            Seen::Struct(children) => match l.element_field.field_type.as_ref() {
                Type::Struct(s) => walk_struct(s.fields(), Some(path), children, typed, plan),
                _ => walk(
                    &l.element_field,
                    &format!("{path}.element"),
                    element,
                    typed,
                    plan,
                ),
            },
            _ => walk(
                &l.element_field,
                &format!("{path}.element"),
                element,
                typed,
                plan,
            ),
        },
        (Type::Map(m), Seen::Map(k, v)) => {
            walk(&m.key_field, &format!("{path}.key"), k, typed, plan)?;
            walk(&m.value_field, &format!("{path}.value"), v, typed, plan)
        }
        // JSON objects are structs to inference; a map column takes their values.
        (Type::Map(m), Seen::Struct(children)) if !typed => {
            let v = children
                .iter()
                .map(|(_, s)| s.clone())
                .fold(Seen::Null, Seen::merge);
            walk(&m.value_field, &format!("{path}.value"), &v, typed, plan)
        }
        // Text into a nested column (a CSV cell of JSON): parsed later, row by row.
        (_, Seen::Primitive(PrimitiveType::String)) if !typed => Ok(()),
        (table, _) if typed => Err(incompatible(format!(
            "the object holds {} where the table has {}",
            crate::infer::type_text(&seen.to_type(&mut 0)),
            crate::infer::type_text(table)
        ))),
        // Text values of another shape: each row is checked (and quarantined) on its own.
        _ => Ok(()),
    }
}

/// The promotion `data` needs in a `table` column, if any; an error when the table's type
/// cannot hold typed `data` and no safe promotion exists.
fn promotion(
    table: &PrimitiveType,
    data: &PrimitiveType,
    typed: bool,
) -> Result<Option<PrimitiveType>, String> {
    use PrimitiveType as P;
    Ok(match (table, data) {
        (P::Int, P::Long) => Some(P::Long),
        (P::Float, P::Double) if typed => Some(P::Double),
        (
            P::Decimal {
                precision: p,
                scale: s,
            },
            P::Decimal {
                precision: q,
                scale: t,
            },
        ) if typed => {
            if s != t {
                return Err(format!(
                    "decimal scale {t} where the table has scale {s} (Iceberg cannot change a scale)"
                ));
            }
            (q > p).then_some(P::Decimal {
                precision: *q,
                scale: *s,
            })
        }
        (P::Int | P::Long, P::Float | P::Double | P::Decimal { .. }) if typed => {
            return Err(format!(
                "{data} values where the table has {table} (fractions would be lost; not an Iceberg promotion)"
            ))
        }
        _ => None,
    })
}

/// `schema` with the promotions applied (same field ids).
pub fn promoted(
    schema: &Schema,
    promote: &[(i32, String, PrimitiveType)],
) -> iceberg::Result<Schema> {
    fn retype(ty: &Type, promote: &[(i32, String, PrimitiveType)]) -> Type {
        let field = |f: &NestedFieldRef| -> NestedFieldRef {
            let mut nf = f.as_ref().clone();
            nf.field_type = Box::new(match promote.iter().find(|(id, _, _)| *id == f.id) {
                Some((_, _, to)) => Type::Primitive(to.clone()),
                None => retype(&f.field_type, promote),
            });
            std::sync::Arc::new(nf)
        };
        match ty {
            Type::Struct(s) => Type::Struct(iceberg::spec::StructType::new(
                s.fields().iter().map(field).collect(),
            )),
            Type::List(l) => Type::List(iceberg::spec::ListType::new(field(&l.element_field))),
            Type::Map(m) => Type::Map(iceberg::spec::MapType::new(
                field(&m.key_field),
                field(&m.value_field),
            )),
            other => other.clone(),
        }
    }
    let Type::Struct(s) = retype(&Type::Struct(schema.as_struct().clone()), promote) else {
        unreachable!("a struct stays a struct")
    };
    Schema::builder()
        .with_schema_id(schema.schema_id() + 1)
        .with_identifier_field_ids(schema.identifier_field_ids())
        .with_fields(s.fields().to_vec())
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::parse_type;

    fn schema(cols: &[(&str, &str)]) -> Schema {
        let mut next = cols.len() as i32 + 1;
        let fields = cols
            .iter()
            .enumerate()
            .map(|(i, (n, t))| {
                std::sync::Arc::new(iceberg::spec::NestedField::optional(
                    i as i32 + 1,
                    *n,
                    parse_type(t, &mut next).unwrap(),
                ))
            })
            .collect::<Vec<_>>();
        Schema::builder().with_fields(fields).build().unwrap()
    }

    fn p(t: PrimitiveType) -> Seen {
        Seen::Primitive(t)
    }

    #[test]
    fn plans_typed_additions_nested_fields_and_promotions() {
        let s = schema(&[("n", "int"), ("a", "struct<x: string>"), ("f", "float")]);
        let observed = vec![
            ("n".to_string(), p(PrimitiveType::Long)),
            (
                "a".to_string(),
                Seen::Struct(vec![("y".into(), p(PrimitiveType::Int))]),
            ),
            ("new".to_string(), p(PrimitiveType::Double)),
            ("f".to_string(), p(PrimitiveType::Double)),
        ];
        let text = plan(&s, &observed, false).unwrap();
        assert_eq!(
            text.add,
            vec![
                (
                    Some("a".into()),
                    "y".into(),
                    Type::Primitive(PrimitiveType::Long)
                ),
                (None, "new".into(), Type::Primitive(PrimitiveType::Double)),
            ]
        );
        assert_eq!(text.promote, vec![(1, "n".into(), PrimitiveType::Long)]);
        let typed = plan(&s, &observed, true).unwrap();
        assert_eq!(typed.promote.len(), 2, "float → double from a typed column");
        let promoted = promoted(&s, &typed.promote).unwrap();
        assert_eq!(
            promoted.field_by_id(1).unwrap().field_type.as_ref(),
            &Type::Primitive(PrimitiveType::Long)
        );
    }

    #[test]
    fn refuses_typed_changes_no_promotion_makes_safe() {
        let s = schema(&[("n", "long"), ("d", "decimal(10, 2)")]);
        let frac = vec![("n".to_string(), p(PrimitiveType::Double))];
        assert_eq!(plan(&s, &frac, true).unwrap_err().path, "n");
        assert!(plan(&s, &frac, false).unwrap().is_empty(), "text: per row");
        let scale = vec![(
            "d".to_string(),
            p(PrimitiveType::Decimal {
                precision: 12,
                scale: 3,
            }),
        )];
        assert!(plan(&s, &scale, true)
            .unwrap_err()
            .message
            .contains("scale"));
        let wider = vec![(
            "d".to_string(),
            p(PrimitiveType::Decimal {
                precision: 12,
                scale: 2,
            }),
        )];
        assert_eq!(plan(&s, &wider, true).unwrap().promote.len(), 1);
    }
}

//! Iceberg types as written in table specs: primitives (`long`, `decimal(10,2)`, `fixed[16]`,
//! …) and nested types in Iceberg's own syntax — `struct<name: type, …>`, `list<type>`,
//! `map<key type, value type>` — nested as deep as needed. Nested field ids are assigned here,
//! in order of appearance, from a counter the caller starts after the top-level ids.

use std::sync::Arc;

use iceberg::spec::{ListType, MapType, NestedField, PrimitiveType, StructType, Type};

/// Parses a primitive type name.
pub fn parse_primitive(name: &str) -> Result<PrimitiveType, String> {
    let normalized = name.trim().to_ascii_lowercase().replace(' ', "");
    serde_json::from_value::<PrimitiveType>(serde_json::Value::String(normalized)).map_err(|_| {
        format!(
            "unknown type `{}`; use boolean, int, long, float, double, decimal(P,S), date, time, \
             timestamp, timestamptz, string, uuid, binary, fixed[N], struct<name: type, ...>, \
             list<type> or map<key type, value type>",
            name.trim()
        )
    })
}

/// Parses a type; nested fields get ids `next_id`, `next_id + 1`, … (advanced past them).
/// Nested fields, list elements and map values are optional; map keys are required (Iceberg).
pub fn parse_type(text: &str, next_id: &mut i32) -> Result<Type, String> {
    let mut p = Parser { s: text, pos: 0 };
    let ty = p.ty(next_id)?;
    p.skip_ws();
    if p.pos != text.len() {
        return Err(format!(
            "type `{text}`: unexpected `{}` at position {}",
            &text[p.pos..],
            p.pos
        ));
    }
    Ok(ty)
}

struct Parser<'a> {
    s: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn skip_ws(&mut self) {
        while self.s[self.pos..].starts_with(char::is_whitespace) {
            self.pos += self.s[self.pos..].chars().next().map_or(1, char::len_utf8);
        }
    }

    fn eat(&mut self, c: char) -> bool {
        self.skip_ws();
        if self.s[self.pos..].starts_with(c) {
            self.pos += c.len_utf8();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: char) -> Result<(), String> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(format!(
                "type `{}`: expected `{c}` at position {}",
                self.s, self.pos
            ))
        }
    }

    /// A keyword directly followed by `<`.
    fn nested_keyword(&mut self) -> Option<&'static str> {
        self.skip_ws();
        let rest = &self.s[self.pos..];
        for k in ["struct", "list", "map"] {
            if rest.len() > k.len()
                && rest[..k.len()].eq_ignore_ascii_case(k)
                && rest[k.len()..].trim_start().starts_with('<')
            {
                self.pos += k.len();
                return Some(k);
            }
        }
        None
    }

    fn ty(&mut self, next_id: &mut i32) -> Result<Type, String> {
        match self.nested_keyword() {
            Some("struct") => {
                self.expect('<')?;
                let mut fields = Vec::new();
                if !self.eat('>') {
                    loop {
                        let name = self.field_name()?;
                        self.expect(':')?;
                        let id = take_id(next_id);
                        let ty = self.ty(next_id)?;
                        fields.push(Arc::new(NestedField::optional(id, name, ty)));
                        if self.eat('>') {
                            break;
                        }
                        self.expect(',')?;
                    }
                }
                if fields.is_empty() {
                    return Err(format!("type `{}`: a struct needs a field", self.s));
                }
                let names: std::collections::HashSet<&str> =
                    fields.iter().map(|f| f.name.as_str()).collect();
                if names.len() != fields.len() {
                    return Err(format!("type `{}`: a struct names a field twice", self.s));
                }
                Ok(Type::Struct(StructType::new(fields)))
            }
            Some("list") => {
                self.expect('<')?;
                let id = take_id(next_id);
                let element = self.ty(next_id)?;
                self.expect('>')?;
                Ok(Type::List(ListType::new(Arc::new(
                    NestedField::list_element(id, element, false),
                ))))
            }
            Some("map") => {
                self.expect('<')?;
                let key_id = take_id(next_id);
                let value_id = take_id(next_id);
                let key = self.ty(next_id)?;
                self.expect(',')?;
                let value = self.ty(next_id)?;
                self.expect('>')?;
                Ok(Type::Map(MapType::new(
                    Arc::new(NestedField::map_key_element(key_id, key)),
                    Arc::new(NestedField::map_value_element(value_id, value, false)),
                )))
            }
            _ => Ok(Type::Primitive(parse_primitive(self.primitive_text())?)),
        }
    }

    /// A field name: everything up to `:` (trimmed).
    fn field_name(&mut self) -> Result<String, String> {
        self.skip_ws();
        let end = self.s[self.pos..]
            .find([':', ',', '<', '>'])
            .map(|i| self.pos + i)
            .unwrap_or(self.s.len());
        let name = self.s[self.pos..end].trim();
        if name.is_empty() || !self.s[end..].starts_with(':') {
            return Err(format!(
                "type `{}`: expected `name: type` at position {}",
                self.s, self.pos
            ));
        }
        self.pos = end;
        Ok(name.to_string())
    }

    /// A primitive's text: up to the next `,` or `>` outside parentheses/brackets.
    fn primitive_text(&mut self) -> &str {
        self.skip_ws();
        let start = self.pos;
        let mut depth = 0i32;
        for (i, c) in self.s[start..].char_indices() {
            match c {
                '(' | '[' => depth += 1,
                ')' | ']' => depth -= 1,
                ',' | '>' if depth <= 0 => {
                    self.pos = start + i;
                    return self.s[start..self.pos].trim();
                }
                _ => {}
            }
        }
        self.pos = self.s.len();
        self.s[start..].trim()
    }
}

fn take_id(next_id: &mut i32) -> i32 {
    let id = *next_id;
    *next_id += 1;
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_nested_types_with_ids_in_order() {
        let mut next = 10;
        let t = parse_type(
            "struct<street: string, geo: struct<lat: double, lon: decimal(9, 6)>, tags: list<string>, attrs: map<string, long>>",
            &mut next,
        )
        .unwrap();
        let Type::Struct(s) = &t else { panic!() };
        let ids: Vec<(i32, &str)> = s.fields().iter().map(|f| (f.id, f.name.as_str())).collect();
        assert_eq!(
            ids,
            vec![(10, "street"), (11, "geo"), (14, "tags"), (16, "attrs")]
        );
        let Type::Struct(geo) = s.fields()[1].field_type.as_ref() else {
            panic!()
        };
        assert_eq!(
            geo.fields()[1].field_type.as_ref(),
            &Type::Primitive(PrimitiveType::Decimal {
                precision: 9,
                scale: 6
            })
        );
        let Type::Map(m) = s.fields()[3].field_type.as_ref() else {
            panic!()
        };
        assert_eq!((m.key_field.id, m.value_field.id), (17, 18));
        assert!(m.key_field.required && !m.value_field.required);
        assert_eq!(next, 19);
        assert_eq!(
            parse_type("long", &mut next).unwrap(),
            Type::Primitive(PrimitiveType::Long)
        );
        assert_eq!(next, 19, "primitives take no id");
    }

    #[test]
    fn refuses_malformed_types_naming_them() {
        for bad in [
            "struct<a string>",
            "list<long",
            "map<string>",
            "struct<>",
            "struct<a: long, a: int>",
            "list<lng>",
            "long extra",
        ] {
            assert!(parse_type(bad, &mut 1).is_err(), "{bad}");
        }
    }
}

//! Table specs: one declarative TOML file per table (schema with Iceberg types, partition spec,
//! sort order, properties, the S3 key prefixes routed to it, input format options), and the
//! router that maps an object key to exactly one table or refuses it.

use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;

use iceberg::spec::{
    NestedField, NullOrder, PrimitiveType, Schema, SortDirection, SortField, SortOrder, Transform,
    Type, UnboundPartitionSpec,
};
use iceberg::{NamespaceIdent, TableCreation, TableIdent};
use serde::Deserialize;

use crate::encoding::{Compression, InputFormat};
use crate::storage::StorageError;

/// Errors loading or using table specs.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    /// A spec file could not be read.
    #[error("cannot read table spec `{location}`: {message}")]
    Read {
        /// File path or URL.
        location: String,
        /// What went wrong.
        message: String,
    },
    /// A spec file is not valid.
    #[error("invalid table spec `{location}`: {message}")]
    Invalid {
        /// File path or URL.
        location: String,
        /// What is wrong.
        message: String,
    },
    /// A spec's contract (column options, SQL rules) does not compile against its schema.
    #[error("invalid table spec `{location}`: {source}")]
    Contract {
        /// File path or URL.
        location: String,
        /// The contract error (typed by the contract module, which sits above this one).
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// Storage could not be reached.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// CSV options of a table's input.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct CsvOptions {
    /// First line holds column names (default true). Columns are matched to the table by name.
    pub header: bool,
    /// Field delimiter (default `,`).
    pub delimiter: char,
    /// Quote character (default `"`).
    pub quote: char,
    /// Escape character (default none: quotes are doubled).
    pub escape: Option<char>,
    /// Values read as null (default: empty field).
    pub null_values: Vec<String>,
}

impl Default for CsvOptions {
    fn default() -> Self {
        Self {
            header: true,
            delimiter: ',',
            quote: '"',
            escape: None,
            null_values: vec![String::new()],
        }
    }
}

/// One column of the table.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ColumnSpec {
    /// Column name (also the CSV header / JSON key / Parquet column it is read from).
    pub name: String,
    /// Iceberg type: boolean, int, long, float, double, decimal(P,S), date, time, timestamp,
    /// timestamptz, string, uuid, binary, fixed[N], or nested: `struct<name: type, ...>`,
    /// `list<type>`, `map<key type, value type>` (Iceberg syntax, nested as deep as needed).
    #[serde(rename = "type", default)]
    pub type_name: String,
    /// Whether the column must be present and non-null (default false).
    #[serde(default)]
    pub required: bool,
    /// Column documentation.
    #[serde(default)]
    pub doc: Option<String>,
    /// Smallest allowed value (written in the column's type, e.g. `0`, `"2020-01-01"`).
    #[serde(default)]
    pub min: Option<toml::Value>,
    /// Largest allowed value.
    #[serde(default)]
    pub max: Option<toml::Value>,
    /// The only values allowed.
    #[serde(default)]
    pub allowed: Option<Vec<toml::Value>>,
    /// Regular expression string values must match (anchor it yourself with `^...$`).
    #[serde(default)]
    pub pattern: Option<String>,
    /// Longest allowed string, in characters.
    #[serde(default)]
    pub max_length: Option<usize>,
    /// Extra timestamp/date input formats (chrono `strftime`), tried after RFC 3339 / ISO 8601.
    #[serde(default)]
    pub formats: Vec<String>,
    /// Timestamps given as epoch numbers in this unit: `s`, `ms`, `us` or `ns`.
    #[serde(default)]
    pub epoch: Option<String>,
    /// Treat an empty string as null (default: true for every type but `string`, where `""` is
    /// a value and is stored as one).
    #[serde(default)]
    pub empty_as_null: Option<bool>,
    /// Opt-in rounding for decimal values with more fractional digits than the column's scale:
    /// `"half_up"` (half away from zero). Without it such values are quarantined (`lossy_value`).
    #[serde(default)]
    pub rounding: Option<String>,
}

/// What to do with columns the object has and the table lacks.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum UnknownColumns {
    /// Ignore them (default).
    #[default]
    Drop,
    /// Quarantine the whole object.
    Reject,
    /// Add them to the table as nullable string columns (Iceberg schema update), then ingest.
    Evolve,
}

/// What to do with table columns the object lacks.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum MissingColumns {
    /// Fill nullable columns with null; a missing required column rejects the object, and so does
    /// a missing column while the object has a column the table lacks (a renamed or re-cased
    /// header would otherwise land as a column of nulls) (default).
    #[default]
    Null,
    /// Fill nullable columns with null even when the object has unknown columns.
    Fill,
    /// Any missing column rejects the object.
    Reject,
}

/// One SQL row rule: a boolean expression every row must satisfy.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// Rule name (the quarantine `field`).
    pub name: String,
    /// Boolean SQL expression over the table's columns, e.g. `amount >= 0 AND quantity > 0`.
    pub sql: String,
}

/// A scheduled table check: a SQL query over the table (`{table}` stands for it) returning one
/// row whose first column is true when the table is healthy.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CheckSpec {
    /// Check name.
    pub name: String,
    /// The query, e.g. `SELECT count(*) = 0 FROM {table} WHERE amount < 0`.
    pub sql: String,
}

/// Object-level contract policies (`[contract]`).
#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct ContractSpec {
    /// Columns in the object but not in the table.
    pub unknown_columns: UnknownColumns,
    /// Columns in the table but not in the object.
    pub missing_columns: MissingColumns,
    /// SQL row rules.
    pub rules: Vec<RuleSpec>,
    /// Match object columns / keys to table columns ignoring ASCII case (default false).
    pub case_insensitive: bool,
    /// Rules for parts of nested columns, by path (`name = "address.country"`, then the same
    /// options as a column: `required`, `min`, `max`, `allowed`, `pattern`, `max_length`, …;
    /// no `type`: it is the column's). List elements are `<column>.element`, map parts
    /// `<column>.key` / `<column>.value`.
    pub fields: Vec<ColumnSpec>,
}

/// One partition field.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PartitionFieldSpec {
    /// Source column name.
    pub column: String,
    /// Iceberg transform: identity, bucket[N], truncate[W], year, month, day, hour, void.
    #[serde(default = "identity")]
    pub transform: String,
    /// Partition field name (default `<column>_<transform>`, or the column for identity).
    #[serde(default)]
    pub name: Option<String>,
}

fn identity() -> String {
    "identity".into()
}

/// One sort field.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SortFieldSpec {
    /// Source column name.
    pub column: String,
    /// Descending order (default ascending).
    #[serde(default)]
    pub descending: bool,
    /// Nulls first (default: first for ascending, last for descending).
    #[serde(default)]
    pub nulls_first: Option<bool>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSpec {
    namespace: Option<String>,
    name: String,
    prefixes: Vec<String>,
    #[serde(default)]
    buckets: Vec<String>,
    #[serde(default)]
    format: Option<String>,
    #[serde(default)]
    compression: Option<String>,
    columns: Vec<ColumnSpec>,
    #[serde(default)]
    partition: Vec<PartitionFieldSpec>,
    #[serde(default)]
    sort: Vec<SortFieldSpec>,
    #[serde(default)]
    properties: BTreeMap<String, String>,
    #[serde(default)]
    csv: CsvOptions,
    #[serde(default)]
    contract: ContractSpec,
    #[serde(default)]
    checks: Vec<CheckSpec>,
    #[serde(default)]
    mode: TableMode,
    #[serde(default)]
    register_prefixes: Vec<String>,
}

/// How a table takes in Parquet objects.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum TableMode {
    /// Every object is read, checked and written as new data files (default).
    #[default]
    Ingest,
    /// Parquet objects whose columns already are the table's, and whose contract holds by their
    /// footer statistics, are committed where they lie, without a copy (see
    /// the `register` module); every other object is ingested, with the reason reported.
    Register,
}

/// A validated table spec.
#[derive(Debug, Clone)]
pub struct TableSpec {
    /// Namespace and name of the Iceberg table.
    pub ident: TableIdent,
    /// S3 key prefixes routed to this table.
    pub prefixes: Vec<String>,
    /// Buckets the prefixes apply to (empty: any bucket).
    pub buckets: Vec<String>,
    /// Input format; when `None` it is taken from the object's extension.
    pub format: Option<InputFormat>,
    /// Compression; when `None` it is taken from the extension or Content-Encoding.
    pub compression: Option<Compression>,
    /// Columns in table order.
    pub columns: Vec<ColumnSpec>,
    /// Partition fields.
    pub partition: Vec<PartitionFieldSpec>,
    /// Sort fields.
    pub sort: Vec<SortFieldSpec>,
    /// Table properties set at creation.
    pub properties: BTreeMap<String, String>,
    /// CSV options.
    pub csv: CsvOptions,
    /// Object-level contract policies.
    pub contract: ContractSpec,
    /// Scheduled table checks.
    pub checks: Vec<CheckSpec>,
    /// Ingest or register Parquet in place.
    pub mode: TableMode,
    /// With `mode = "register"`: only keys under these prefixes are registered (empty: all).
    pub register_prefixes: Vec<String>,
    /// The Iceberg schema (field ids 1..=n in column order).
    pub schema: Schema,
}

impl RawSpec {
    /// Checks routing and names: prefixes present and non-empty, path-safe table and namespace
    /// names, one-byte CSV characters.
    fn check_names(&self) -> Result<(), String> {
        if self.prefixes.is_empty() {
            return Err("`prefixes` must list at least one S3 key prefix".into());
        }
        if self.columns.is_empty() {
            return Err("`columns` must list at least one column".into());
        }
        if !self.register_prefixes.is_empty() && self.mode != TableMode::Register {
            return Err("`register_prefixes` needs `mode = \"register\"`".into());
        }
        if let Some(p) = self.prefixes.iter().find(|p| p.trim().is_empty()) {
            return Err(format!(
                "prefix `{p}` is empty: it would route every key of the bucket to this table"
            ));
        }
        let path_like = |n: &str| {
            n.is_empty()
                || n.contains(['/', '\\', '\0'])
                || n == "."
                || n == ".."
                || n.chars().any(char::is_control)
        };
        if path_like(&self.name) {
            return Err(format!(
                "table name `{}` must not be empty or hold `/`, `\\`, `..` or control characters (it becomes part of storage paths)",
                self.name
            ));
        }
        if let Some(ns) = &self.namespace {
            if ns.split('.').any(path_like) {
                return Err(format!(
                    "namespace `{ns}` must not hold empty parts, `/`, `\\`, `..` or control characters"
                ));
            }
        }
        for (what, c) in [("delimiter", self.csv.delimiter), ("quote", self.csv.quote)]
            .into_iter()
            .chain(self.csv.escape.map(|e| ("escape", e)))
        {
            if !c.is_ascii() {
                return Err(format!(
                    "csv {what} `{c}` must be a single ASCII character (one byte)"
                ));
            }
        }
        Ok(())
    }
}

/// The Iceberg schema of the declared columns (field ids 1..=n in column order).
fn schema_of(columns: &[ColumnSpec]) -> Result<Schema, String> {
    let mut fields = Vec::with_capacity(columns.len());
    let mut seen = HashMap::new();
    // Top-level columns keep ids 1..=n; nested fields are numbered after them.
    let mut next_id = columns.len() as i32 + 1;
    for (i, c) in columns.iter().enumerate() {
        if seen.insert(c.name.clone(), i).is_some() {
            return Err(format!("column `{}` is declared twice", c.name));
        }
        let ty = crate::types::parse_type(&c.type_name, &mut next_id)
            .map_err(|m| format!("column `{}`: {m}", c.name))?;
        if ty == Type::Primitive(PrimitiveType::Fixed(0)) {
            return Err(format!("column `{}`: `fixed[0]` holds no bytes", c.name));
        }
        let id = i as i32 + 1;
        let mut f = if c.required {
            NestedField::required(id, &c.name, ty)
        } else {
            NestedField::optional(id, &c.name, ty)
        };
        if let Some(doc) = &c.doc {
            f = f.with_doc(doc);
        }
        fields.push(f.into());
    }
    Schema::builder()
        .with_fields(fields)
        .build()
        .map_err(|e| e.to_string())
}

impl TableSpec {
    /// Whether `key` is to be registered in place when it qualifies (`mode = "register"`, and
    /// under one of `register_prefixes` when they are given).
    pub fn registers(&self, key: &str) -> bool {
        self.mode == TableMode::Register
            && (self.register_prefixes.is_empty()
                || self.register_prefixes.iter().any(|p| key.starts_with(p)))
    }

    /// Parses and validates one spec; `location` names it in errors.
    pub fn from_toml(
        text: &str,
        location: &str,
        default_namespace: &str,
    ) -> Result<Self, SpecError> {
        let invalid = |message: String| SpecError::Invalid {
            location: location.to_string(),
            message,
        };
        let raw: RawSpec = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        raw.check_names().map_err(invalid)?;
        let schema = schema_of(&raw.columns).map_err(invalid)?;
        let format = raw
            .format
            .as_deref()
            .map(|f| InputFormat::from_str(f).map_err(invalid))
            .transpose()?;
        let compression = raw
            .compression
            .as_deref()
            .map(|c| Compression::from_str(c).map_err(invalid))
            .transpose()?;
        let spec = TableSpec {
            ident: TableIdent::new(
                NamespaceIdent::from_strs(
                    raw.namespace
                        .as_deref()
                        .unwrap_or(default_namespace)
                        .split('.'),
                )
                .map_err(|e| invalid(e.to_string()))?,
                raw.name,
            ),
            prefixes: raw.prefixes,
            buckets: raw.buckets,
            format,
            compression,
            columns: raw.columns,
            partition: raw.partition,
            sort: raw.sort,
            properties: raw.properties,
            csv: raw.csv,
            contract: raw.contract,
            checks: raw.checks,
            mode: raw.mode,
            register_prefixes: raw.register_prefixes,
            schema,
        };
        spec.check_layout().map_err(invalid)?;
        Ok(spec)
    }

    /// Checks what depends on the schema: format/compression pairing, partition transforms
    /// (bound now, so a transform that does not fit its column fails naming the spec, not on
    /// every object), sort order and writer properties.
    fn check_layout(&self) -> Result<(), String> {
        if self.format == Some(InputFormat::Parquet)
            && self.compression.is_some_and(|c| c != Compression::None)
        {
            return Err("`format = \"parquet\"` with `compression`: Parquet objects are not wrapped in gzip/zstd (Parquet compresses internally)".into());
        }
        let unbound = self.partition_spec()?;
        for p in &self.partition {
            if let Ok(Transform::Bucket(0) | Transform::Truncate(0)) =
                Transform::from_str(&p.transform)
            {
                return Err(format!(
                    "partition on `{}`: `{}` needs a width of at least 1",
                    p.column, p.transform
                ));
            }
        }
        iceberg::spec::PartitionSpec::builder(self.schema.clone())
            .add_unbound_fields(unbound.fields().iter().cloned())
            .and_then(|b| b.build())
            .map_err(|e| format!("partition spec: {e}"))?;
        self.sort_order()?;
        for f in &self.contract.fields {
            if !f.type_name.is_empty() {
                return Err(format!(
                    "contract field `{}`: no `type` here (the column declares it)",
                    f.name
                ));
            }
            if !f.name.contains('.') || self.schema.field_by_name(&f.name).is_none() {
                return Err(format!(
                    "contract field `{}` is not a path to a part of a nested column (`column.field`)",
                    f.name
                ));
            }
        }
        for (k, v) in &self.properties {
            check_writer_property(k, v)?;
        }
        Ok(())
    }

    fn field_id(&self, column: &str) -> Result<i32, String> {
        self.schema
            .field_by_name(column)
            .map(|f| f.id)
            .ok_or_else(|| format!("`{column}` is not a column of the table"))
    }

    /// The unbound partition spec.
    pub fn partition_spec(&self) -> Result<UnboundPartitionSpec, String> {
        let mut b = UnboundPartitionSpec::builder();
        for p in &self.partition {
            let transform = Transform::from_str(&p.transform)
                .map_err(|e| format!("partition on `{}`: {e}", p.column))?;
            // A nested source (`address.country`) names its field `address_country…`.
            let base = p.column.replace('.', "_");
            let name = p.name.clone().unwrap_or_else(|| match transform {
                Transform::Identity => base.clone(),
                _ => format!("{base}_{}", transform_suffix(&transform)),
            });
            b = b
                .add_partition_field(self.field_id(&p.column)?, name, transform)
                .map_err(|e| e.to_string())?;
        }
        Ok(b.build())
    }

    /// The sort order (unsorted when no sort fields are given).
    pub fn sort_order(&self) -> Result<SortOrder, String> {
        if self.sort.is_empty() {
            return Ok(SortOrder::unsorted_order());
        }
        let mut b = SortOrder::builder();
        for s in &self.sort {
            let direction = if s.descending {
                SortDirection::Descending
            } else {
                SortDirection::Ascending
            };
            let nulls_first = s.nulls_first.unwrap_or(!s.descending);
            b.with_sort_field(
                SortField::builder()
                    .source_id(self.field_id(&s.column)?)
                    .transform(Transform::Identity)
                    .direction(direction)
                    .null_order(if nulls_first {
                        NullOrder::First
                    } else {
                        NullOrder::Last
                    })
                    .build(),
            );
        }
        b.with_order_id(1)
            .build(&self.schema)
            .map_err(|e| e.to_string())
    }

    /// The request that creates this table in a catalog.
    pub fn table_creation(&self) -> Result<TableCreation, String> {
        let mut props: HashMap<String, String> = HashMap::new();
        props.insert("write.format.default".into(), "parquet".into());
        props.insert("write.parquet.compression-codec".into(), "zstd".into());
        props.insert("write.parquet.compression-level".into(), "3".into());
        // Concurrent Lambdas append to one table: give iceberg's own retry more room.
        props.insert("commit.retry.num-retries".into(), "10".into());
        props.extend(self.properties.iter().map(|(k, v)| (k.clone(), v.clone())));
        Ok(TableCreation::builder()
            .name(self.ident.name().to_string())
            .schema(self.schema.clone())
            .partition_spec(self.partition_spec()?)
            .sort_order(self.sort_order()?)
            .properties(props)
            .build())
    }

    pub(crate) fn matches(&self, bucket: &str, key: &str) -> Option<usize> {
        if !self.buckets.is_empty() && !self.buckets.iter().any(|b| b == bucket) {
            return None;
        }
        self.prefixes
            .iter()
            .filter(|p| key.starts_with(p.as_str()))
            .map(|p| p.len())
            .max()
    }
}

fn transform_suffix(t: &Transform) -> String {
    match t {
        Transform::Bucket(_) => "bucket".into(),
        Transform::Truncate(_) => "trunc".into(),
        other => other.to_string(),
    }
}

/// Table properties Floe's writer reads must parse, or every object would fail at write time.
fn check_writer_property(key: &str, value: &str) -> Result<(), String> {
    let positive = |v: &str| v.parse::<u64>().ok().filter(|n| *n > 0).is_some();
    let ok = match key {
        "write.target-file-size-bytes"
        | "write.parquet.row-group-size-bytes"
        | "write.parquet.page-size-bytes"
        | "write.parquet.dict-size-bytes"
        | "write.parquet.page-row-limit" => positive(value),
        "write.parquet.compression-codec" => matches!(
            value.to_ascii_lowercase().as_str(),
            "zstd" | "snappy" | "gzip" | "uncompressed" | "none" | "lz4" | "brotli"
        ),
        "write.parquet.compression-level" => value.parse::<i32>().is_ok(),
        "write.format.default" => value.eq_ignore_ascii_case("parquet"),
        _ => true,
    };
    if ok {
        Ok(())
    } else {
        Err(format!("table property `{key}` = `{value}` is not valid"))
    }
}

pub use crate::types::parse_primitive;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::router::TableRouter;

    const ORDERS: &str = r#"
        name = "orders"
        prefixes = ["orders/", "orders/eu/"]
        format = "csv"
        [[columns]]
        name = "id"
        type = "long"
        required = true
        [[columns]]
        name = "amount"
        type = "decimal(10, 2)"
        [[columns]]
        name = "ts"
        type = "timestamptz"
        [[partition]]
        column = "ts"
        transform = "day"
        [[sort]]
        column = "id"
    "#;

    #[test]
    fn parses_types_partitions_and_sort() {
        let s = TableSpec::from_toml(ORDERS, "orders.toml", "floe").unwrap();
        assert_eq!(s.ident.to_string(), "floe.orders");
        let amount = s.schema.field_by_name("amount").unwrap();
        assert_eq!(
            *amount.field_type,
            Type::Primitive(PrimitiveType::Decimal {
                precision: 10,
                scale: 2
            })
        );
        assert!(s.schema.field_by_name("id").unwrap().required);
        let p = s.partition_spec().unwrap();
        assert_eq!(p.fields()[0].name, "ts_day");
        assert_eq!(p.fields()[0].transform, Transform::Day);
        assert_eq!(s.sort_order().unwrap().fields.len(), 1);
    }

    #[test]
    fn errors_name_the_file_and_column() {
        let bad = ORDERS.replace("decimal(10, 2)", "money");
        let err = TableSpec::from_toml(&bad, "orders.toml", "floe")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("orders.toml") && err.contains("`amount`") && err.contains("money"),
            "{err}"
        );
        let bad = ORDERS.replace("column = \"ts\"", "column = \"nope\"");
        let err = TableSpec::from_toml(&bad, "orders.toml", "floe")
            .unwrap_err()
            .to_string();
        assert!(err.contains("`nope` is not a column"), "{err}");
    }

    #[test]
    fn routes_by_longest_prefix_and_refuses_unknown_keys() {
        let orders = TableSpec::from_toml(ORDERS, "a", "floe").unwrap();
        let eu = TableSpec::from_toml(
            &ORDERS
                .replace("name = \"orders\"", "name = \"eu\"")
                .replace("[\"orders/\", \"orders/eu/\"]", "[\"orders/eu/2024/\"]"),
            "b",
            "floe",
        )
        .unwrap();
        let r = TableRouter::new(vec![orders, eu]).unwrap();
        assert_eq!(r.route("b", "orders/x.csv").unwrap().ident.name(), "orders");
        assert_eq!(
            r.route("b", "orders/eu/2024/x.csv").unwrap().ident.name(),
            "eu"
        );
        let err = r.route("b", "customers/x.csv").unwrap_err();
        assert_eq!(err.key, "customers/x.csv");
        assert!(err.to_string().contains("s3://b/customers/x.csv"));
    }

    #[test]
    fn refuses_two_tables_on_one_prefix() {
        let a = TableSpec::from_toml(ORDERS, "a", "floe").unwrap();
        let b = TableSpec::from_toml(
            &ORDERS.replace("name = \"orders\"", "name = \"other\""),
            "b",
            "floe",
        )
        .unwrap();
        let err = TableRouter::new(vec![a, b]).unwrap_err().to_string();
        assert!(err.contains("also routed"), "{err}");
    }
}

//! `floe spec infer s3://bucket/prefix`: a table spec (TOML) from a sample of the objects under a
//! prefix — column names and types (nested ones too), nullability, the format when the sample
//! agrees on one, a day partition on the first timestamp column, and the prefix as the route. The
//! sample is read the way ingest reads (see [`crate::format::profile`]), streamed and bounded.
//! Users review the spec and commit it.

use std::sync::Arc;

use futures::{StreamExt, TryStreamExt};
use iceberg::spec::{PrimitiveType, Type};

use crate::config::Limits;
use crate::encoding::InputFormat;
use crate::format::profile::{profile_object, ObjectProfile};
use crate::format::{FormatError, ObjectFormat};
use crate::infer::{type_text, ColumnProfile, Seen};
use crate::landing::Landing;
use crate::source::ObjectRef;
use crate::spec::CsvOptions;
use crate::storage::Stores;

/// How much to read.
#[derive(Debug, Clone)]
pub struct InferOptions {
    /// Objects to read (the first ones listed under the prefix).
    pub sample_objects: usize,
    /// Records to read per text object.
    pub records_per_object: u64,
    /// CSV dialect of the objects.
    pub csv: CsvOptions,
    /// Input limits (as ingest).
    pub limits: Limits,
}

/// An inferred spec and what it was inferred from.
#[derive(Debug, Clone)]
pub struct InferredSpec {
    /// The spec, as TOML.
    pub toml: String,
    /// Objects read.
    pub objects: Vec<String>,
    /// Records read.
    pub records: u64,
    /// Columns: name, type, nullable.
    pub columns: Vec<(String, Type, bool)>,
}

/// Why no spec could be inferred.
#[derive(Debug, thiserror::Error)]
pub enum InferError {
    /// Not an `s3://bucket/prefix` URL.
    #[error("`{0}` is not an s3://bucket/prefix URL")]
    Url(String),
    /// The prefix could not be listed.
    #[error("cannot list {url}: {source}")]
    List {
        /// The prefix.
        url: String,
        /// Why.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// Nothing to infer from.
    #[error("no readable objects under {0}")]
    Empty(String),
    /// An object could not be read.
    #[error(transparent)]
    Read(#[from] FormatError),
}

/// Infers a spec from the objects under `url`.
pub async fn infer_spec(
    landing: Arc<Landing>,
    stores: &Stores,
    url: &str,
    opts: &InferOptions,
) -> Result<InferredSpec, InferError> {
    let (bucket, prefix) =
        crate::source::split_s3_url(url).ok_or_else(|| InferError::Url(url.to_string()))?;
    let list_err = |source: Box<dyn std::error::Error + Send + Sync>| InferError::List {
        url: url.to_string(),
        source,
    };
    let store = stores.bucket(bucket).map_err(|e| list_err(Box::new(e)))?;
    let listed: Vec<object_store::ObjectMeta> = store
        .list(Some(&object_store::path::Path::from(prefix)))
        .try_filter(|m| futures::future::ready(m.size > 0))
        .take(opts.sample_objects)
        .try_collect()
        .await
        .map_err(|e| list_err(Box::new(e)))?;
    let mut merged = ObjectProfile::default();
    let mut formats = Vec::new();
    let mut objects = Vec::new();
    for meta in listed {
        let key = meta.location.to_string();
        let Ok(fmt) = ObjectFormat::detect_with(None, None, &key, None) else {
            continue; // not a format Floe reads (a _SUCCESS marker, a manifest)
        };
        let object = ObjectRef {
            size: Some(meta.size),
            ..ObjectRef::new(bucket, &key)
        };
        let profile = profile_object(
            landing.clone(),
            &object,
            fmt,
            &opts.csv,
            opts.limits,
            opts.records_per_object,
        )
        .await?;
        merge(&mut merged, profile);
        formats.push(fmt.format);
        objects.push(object.url());
    }
    if objects.is_empty() {
        return Err(InferError::Empty(url.to_string()));
    }
    formats.dedup();
    let format = (formats.len() == 1).then(|| formats[0]);
    let columns: Vec<(String, Type, bool)> = merged
        .columns
        .iter()
        .map(|(name, c)| column(name, c, &merged))
        .collect();
    let toml = render(prefix, format, &columns, &objects, merged.records);
    Ok(InferredSpec {
        toml,
        objects,
        records: merged.records,
        columns,
    })
}

fn merge(into: &mut ObjectProfile, from: ObjectProfile) {
    let before = into.records;
    into.records += from.records;
    into.typed |= from.typed;
    for (name, c) in from.columns {
        match into.columns.iter_mut().find(|(n, _)| *n == name) {
            Some((_, existing)) => existing.absorb(c),
            None => {
                // Absent from the objects read before: null in their records.
                let mut fresh = ColumnProfile::default();
                (fresh.values, fresh.nulls) = (before, before);
                fresh.absorb(c);
                into.columns.push((name, fresh));
            }
        }
    }
}

/// A column's type (text integers as `long`) and nullability: nullable when a value was null or
/// absent in a record read.
fn column(name: &str, c: &ColumnProfile, all: &ObjectProfile) -> (String, Type, bool) {
    let (seen, nullable) = c.decide();
    let absent = !all.typed && c.values < all.records;
    let seen = if all.typed { seen } else { seen.widen_ints() };
    (
        name.to_string(),
        seen.to_type(&mut 0),
        nullable || absent || seen == Seen::Null,
    )
}

fn render(
    prefix: &str,
    format: Option<InputFormat>,
    columns: &[(String, Type, bool)],
    objects: &[String],
    records: u64,
) -> String {
    let q = |s: &str| toml::Value::String(s.to_string()).to_string();
    let name: String = prefix
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or("table")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    let name = if name.is_empty() {
        "table".into()
    } else {
        name
    };
    let mut out = format!(
        "# Inferred by `floe spec infer` from {} object(s), {records} record(s), under this prefix.\n\
         # Review before use: the types, `required`, and the partition.\n\
         name = {}\nprefixes = [{}]\n",
        objects.len(),
        q(&name),
        q(prefix),
    );
    if let Some(f) = format {
        out.push_str(&format!("format = {}\n", q(&f.to_string())));
    }
    for (col, ty, nullable) in columns {
        out.push_str(&format!(
            "\n[[columns]]\nname = {}\ntype = {}\n",
            q(col),
            q(&type_text(ty))
        ));
        if !nullable {
            out.push_str("required = true\n");
        }
    }
    let timestamp = columns.iter().find(|(_, t, _)| {
        matches!(
            t,
            Type::Primitive(PrimitiveType::Timestamptz | PrimitiveType::Timestamp)
        )
    });
    if let Some((col, _, _)) = timestamp {
        out.push_str(&format!(
            "\n# Suggested: one partition per day of the first timestamp column.\n[[partition]]\ncolumn = {}\ntransform = \"day\"\n",
            q(col)
        ));
    }
    out
}

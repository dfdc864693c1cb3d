//! The read side every pass over an object shares — ingest, schema evolution and validate:
//! routing a key to its table spec, pinned landing reads, and decoding against a table schema
//! with the table's contract compiled once per schema.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use iceberg::Catalog;

use crate::config::Limits;
use crate::contract::CompiledContract;
use crate::format::{FormatError, ObjectDecoder};
use crate::landing::Landing;
use crate::router::TableRouter;
use crate::source::ObjectRef;
use crate::spec::TableSpec;

/// Routing, landing reads and decoding of objects, with compiled contracts cached.
pub struct ObjectPipeline {
    pub(crate) landing: Arc<Landing>,
    pub(crate) catalog: Arc<dyn Catalog>,
    pub(crate) router: TableRouter,
    batch_rows: usize,
    limits: Limits,
    /// Compiled contracts by (table, table schema): compiled once, shared by every object.
    contracts: Mutex<HashMap<(String, u64), Arc<CompiledContract>>>,
}

impl ObjectPipeline {
    /// A pipeline reading from `landing`, routing by `router`, with the decoders' batch size and
    /// limits.
    pub fn new(
        landing: Arc<Landing>,
        catalog: Arc<dyn Catalog>,
        router: TableRouter,
        batch_rows: usize,
        limits: Limits,
    ) -> Self {
        Self {
            landing,
            catalog,
            router,
            batch_rows,
            limits,
            contracts: Mutex::default(),
        }
    }

    /// Opens `object` for decoding against `arrow_schema`, with the configured batch size and
    /// limits: the one way every pass over an object (ingest, evolve, validate) reads it.
    pub(crate) async fn open_decoder(
        &self,
        object: &ObjectRef,
        spec: &TableSpec,
        arrow_schema: arrow_schema::SchemaRef,
    ) -> Result<ObjectDecoder, FormatError> {
        let contract =
            self.contract(spec, arrow_schema)
                .map_err(|source| FormatError::Contract {
                    object: object.url(),
                    source: Box::new(source),
                })?;
        ObjectDecoder::open(
            self.landing.clone(),
            object,
            spec,
            contract,
            self.batch_rows,
            self.limits,
        )
        .await
    }

    /// The contract of `spec` compiled for `arrow_schema`, from the cache when this schema of the
    /// table was seen before (keyed by the schema's fields, so an evolved schema compiles anew).
    pub(crate) fn contract(
        &self,
        spec: &TableSpec,
        arrow_schema: arrow_schema::SchemaRef,
    ) -> Result<Arc<CompiledContract>, crate::contract::ContractError> {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        format!("{:?}", arrow_schema.fields()).hash(&mut h);
        let key = (spec.ident.to_string(), h.finish());
        let cached = self
            .contracts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
            .cloned();
        if let Some(c) = cached {
            return Ok(c);
        }
        let compiled = Arc::new(CompiledContract::compile(arrow_schema, spec)?);
        self.contracts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, compiled.clone());
        Ok(compiled)
    }
}

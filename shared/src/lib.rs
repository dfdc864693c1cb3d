//! Floe's common crate: everything the Lambda functions share.
//!
//! Data flows one way: [`event`] → [`source`] → [`format`] (decode to record batches) →
//! [`write`] (Parquet data files) → [`commit`] (snapshot); beside them [`config`], [`storage`],
//! [`catalog`], [`spec`] (table specs and routing), [`table`] and [`telemetry`]. [`ingest`] wires
//! the pipeline.

pub mod backfill;
pub mod catalog;
#[cfg(feature = "checks")]
pub mod checks;
pub mod commit;
pub mod committer;
pub mod config;
pub mod contract;
pub mod encoding;
pub mod event;
pub mod exact;
pub mod exact_parse;
pub mod format;
pub mod infer;
pub mod ingest;
pub mod landing;
#[cfg(feature = "maintenance")]
pub mod maintenance;
pub mod metrics;
pub mod partition_split;
pub mod pipeline;
pub mod quarantine;
pub mod queue;
pub mod register;
pub mod replay;
#[cfg(feature = "catalog-rest")]
mod rest_token;
pub mod router;
pub mod rules;
pub mod source;
pub mod spec;
pub mod spec_infer;
pub mod storage;
pub mod swap;
pub mod table;
pub mod telemetry;
pub mod types;
pub mod validate;
pub mod violation;
pub mod write;

/// Floe's error at the crate edge, classified retryable or not.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Configuration is invalid.
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    /// Table specs are invalid.
    #[error(transparent)]
    Spec(#[from] spec::SpecError),
    /// No table routes the object.
    #[error(transparent)]
    NoRoute(#[from] router::NoRoute),
    /// Storage client error.
    #[error(transparent)]
    Storage(#[from] storage::StorageError),
    /// Catalog could not be opened.
    #[error(transparent)]
    Catalog(#[from] catalog::CatalogError),
    /// The object could not be read.
    #[error("{object}: cannot read object: {source}")]
    Read {
        /// The object.
        object: String,
        /// Cause.
        source: object_store::Error,
    },
    /// The object's content could not be decoded.
    #[error(transparent)]
    Format(#[from] format::FormatError),
    /// Iceberg (table load/create, file write).
    #[error("iceberg: {0}")]
    Iceberg(#[from] iceberg::Error),
    /// Commit failed.
    #[error(transparent)]
    Commit(#[from] commit::CommitError),
    /// Table maintenance failed.
    #[cfg(feature = "maintenance")]
    #[error(transparent)]
    Maintenance(#[from] maintenance::MaintenanceError),
    /// An unreadable object could not be copied to quarantine.
    #[error("{object}: cannot quarantine the object: {source}")]
    Quarantine {
        /// The object.
        object: String,
        /// Why.
        #[source]
        source: quarantine::QuarantineError,
    },
    /// A commit request could not be sent.
    #[error("{object}: cannot send the commit request: {source}")]
    Queue {
        /// The object.
        object: String,
        /// Why.
        #[source]
        source: queue::QueueError,
    },
    /// A schema promotion could not be committed.
    #[error("{table}: cannot evolve the schema: {source}")]
    Evolve {
        /// The table.
        table: String,
        /// Why.
        #[source]
        source: Box<swap::SwapError>,
    },
    /// Arrow error building batches.
    #[error("arrow: {0}")]
    Arrow(#[from] arrow_schema::ArrowError),
}

impl Error {
    /// Whether retrying the same work could succeed (network, throttling, commit conflicts);
    /// bad data and bad configuration never do.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Config(_) | Error::Spec(_) | Error::NoRoute(_) => false,
            Error::Storage(_) | Error::Catalog(_) => true,
            Error::Read { source, .. } => !matches!(source, object_store::Error::NotFound { .. }),
            Error::Format(e) => e.is_retryable(),
            Error::Iceberg(e) => {
                e.retryable() || matches!(e.kind(), iceberg::ErrorKind::Unexpected)
            }
            Error::Commit(e) => e.is_retryable(),
            #[cfg(feature = "maintenance")]
            Error::Maintenance(_) => true,
            Error::Quarantine { source, .. } => source.is_retryable(),
            Error::Queue { .. } => true,
            Error::Evolve { .. } => true,
            Error::Arrow(_) => false,
        }
    }
}

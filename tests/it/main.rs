//! Integration tests: one binary, one module per capability. They need the real S3 server that
//! `make test` (scripts/test.sh) starts; see support.rs.
#![recursion_limit = "256"]

mod avro;
mod backfill;
mod checks;
mod commit_queue;
mod concurrency;
mod corpus;
mod csv_recovery;
mod deletes;
mod errors;
mod evolution;
mod formats;
mod glue;
mod handler;
mod idempotency;
mod in_memory;
mod integrity;
mod maintenance;
mod manifests;
mod nested;
mod read_ahead;
mod register;
mod replay;
mod s3tables;
mod sales;
mod secrets;
mod sort_compaction;
mod spec_infer;
mod sqs;
mod support;
mod uuid_fixed;

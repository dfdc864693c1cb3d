//! Configuration from environment variables, validated once at init.
//!
//! Every problem is collected and reported together, each naming its variable and the fix, so a
//! misconfigured Lambda fails its first cold start with one readable message.

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;

/// Input a partitioned write buffers before writing it out partition by partition (96 MiB).
pub const DEFAULT_PARTITION_BUFFER_BYTES: usize = 96 * 1024 * 1024;

/// Which Iceberg catalog Floe talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CatalogKind {
    /// SQL catalog (SQLite file or PostgreSQL), the JDBC/pyiceberg SqlCatalog layout.
    Sql,
    /// Iceberg REST catalog.
    Rest,
    /// AWS Glue Data Catalog.
    Glue,
    /// Amazon S3 Tables (a table bucket; `FLOE_WAREHOUSE` is its ARN), through its native API.
    S3Tables,
}

impl CatalogKind {
    /// Every kind, in the order the docs list them.
    pub const ALL: [CatalogKind; 4] = [Self::Sql, Self::Rest, Self::Glue, Self::S3Tables];

    /// `sql`, `rest`, `glue` or `s3tables` (as `FLOE_CATALOG_TYPE` names it).
    pub fn name(&self) -> &'static str {
        match self {
            Self::Sql => "sql",
            Self::Rest => "rest",
            Self::Glue => "glue",
            Self::S3Tables => "s3tables",
        }
    }

    /// Whether this build links the catalog (cargo features `catalog-*`, all on by default).
    pub fn built_in(&self) -> bool {
        match self {
            Self::Sql => cfg!(feature = "catalog-sql"),
            Self::Rest => cfg!(feature = "catalog-rest"),
            Self::Glue => cfg!(feature = "catalog-glue"),
            Self::S3Tables => cfg!(feature = "catalog-s3tables"),
        }
    }
}

/// Why a catalog kind this build leaves out cannot be used.
pub(crate) fn not_built(kind: &CatalogKind) -> String {
    let name = kind.name();
    format!(
        "this build does not include the `{name}` catalog (cargo feature `catalog-{name}`; `make package CATALOG={name}` builds it)"
    )
}

/// Catalog settings (`FLOE_CATALOG_*`, `FLOE_WAREHOUSE`). `Debug` hides the credential and any
/// password in the URI.
#[derive(Clone)]
pub struct CatalogConfig {
    /// `FLOE_CATALOG_TYPE`: `sql` (default), `rest` or `glue`.
    pub kind: CatalogKind,
    /// `FLOE_CATALOG_NAME`: catalog name recorded in the SQL catalog's rows (default `floe`).
    pub name: String,
    /// `FLOE_CATALOG_URI`: SQL URL (`sqlite:///path/catalog.db`, `postgres://...`) or REST URL.
    pub uri: Option<String>,
    /// `FLOE_WAREHOUSE`: where new tables live, e.g. `s3://warehouse/` or `file:///tmp/wh`.
    pub warehouse: String,
    /// `FLOE_CATALOG_CREDENTIAL`: REST OAuth2 client credential `id:secret` (optional).
    pub credential: Option<String>,
    /// `FLOE_CATALOG_CREDENTIAL_SECRET_ARN`: a Secrets Manager secret holding that credential,
    /// fetched at start-up (instead of the plain variable).
    pub credential_secret_arn: Option<String>,
    /// `AWS_ENDPOINT_URL_SECRETSMANAGER`: the Secrets Manager endpoint (an emulator); AWS when
    /// unset.
    pub secretsmanager_endpoint: Option<String>,
    /// `FLOE_CATALOG_ID`: Glue catalog id (AWS account), optional.
    pub glue_catalog_id: Option<String>,
    /// `AWS_ENDPOINT_URL_GLUE`: the Glue API endpoint (an emulator such as moto); AWS when unset.
    /// The global `AWS_ENDPOINT_URL` is deliberately not used here: locally it names the S3 server.
    pub glue_endpoint: Option<String>,
    /// `AWS_ENDPOINT_URL_S3TABLES`: the S3 Tables API endpoint (an emulator); AWS when unset.
    pub s3tables_endpoint: Option<String>,
    /// `FLOE_CATALOG_TOKEN_MAX_AGE_SECS`: a REST OAuth2 token older than this is renewed before
    /// the next call (default 1800: warm containers outlive tokens).
    pub token_max_age: std::time::Duration,
}

impl std::fmt::Debug for CatalogConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CatalogConfig")
            .field("kind", &self.kind)
            .field("name", &self.name)
            .field("uri", &self.uri.as_deref().map(redact_url))
            .field("warehouse", &self.warehouse)
            .field("credential", &self.credential.as_ref().map(|_| "***"))
            .field("credential_secret_arn", &self.credential_secret_arn)
            .field("glue_catalog_id", &self.glue_catalog_id)
            .field("glue_endpoint", &self.glue_endpoint)
            .field("s3tables_endpoint", &self.s3tables_endpoint)
            .field("token_max_age", &self.token_max_age)
            .finish()
    }
}

/// The AWS SDK configuration for one service client: the standard chain (credentials; the region
/// too unless `region` is given), at `endpoint` when one is configured (an emulator such as moto).
pub async fn aws_sdk_config(region: Option<&str>, endpoint: Option<&str>) -> aws_config::SdkConfig {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if let Some(r) = region {
        loader = loader.region(aws_config::Region::new(r.to_string()));
    }
    if let Some(e) = endpoint {
        loader = loader.endpoint_url(e);
    }
    loader.load().await
}

/// `namespace.table` (the namespace may itself be dotted: `a.b.table`) as a table identifier.
pub fn parse_table_name(name: &str) -> Option<iceberg::TableIdent> {
    let (ns, table) = name.rsplit_once('.')?;
    if ns.is_empty() || table.is_empty() || ns.split('.').any(str::is_empty) {
        return None;
    }
    iceberg::TableIdent::from_strs(ns.split('.').chain(std::iter::once(table))).ok()
}

/// `scheme://user:password@host/...` with the password replaced by `***` (for logs and errors).
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split_once(':').map_or(userinfo, |(u, _)| u);
            let hidden = if userinfo.contains(':') { ":***" } else { "" };
            format!("{scheme}://{user}{hidden}@{host}{path}")
        }
        None => url.to_string(),
    }
}

/// Whether a URL's host is the local machine (plain HTTP is acceptable only there).
fn is_loopback_url(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let host = rest.split(['/', '?']).next().unwrap_or("");
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    let host = if host.starts_with('[') {
        host.split(']').next().unwrap_or("").trim_start_matches('[')
    } else {
        host.split(':').next().unwrap_or("")
    };
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// S3 client settings, shared by object_store (landing objects) and Iceberg's FileIO (table files).
/// `Debug` hides the secret key and session token.
#[derive(Clone, Default)]
pub struct S3Config {
    /// `AWS_ENDPOINT_URL_S3` or `AWS_ENDPOINT_URL`: custom endpoint (MinIO, SeaweedFS); AWS when unset.
    pub endpoint: Option<String>,
    /// `AWS_REGION` / `AWS_DEFAULT_REGION` (default `us-east-1`).
    pub region: String,
    /// `AWS_ACCESS_KEY_ID` (optional: the SDK chain is used when unset).
    pub access_key_id: Option<String>,
    /// `AWS_SECRET_ACCESS_KEY`.
    pub secret_access_key: Option<String>,
    /// `AWS_SESSION_TOKEN`.
    pub session_token: Option<String>,
    /// `FLOE_S3_PATH_STYLE`: path-style addressing (default `true` with a custom endpoint).
    pub path_style: bool,
}

impl std::fmt::Debug for S3Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Config")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field(
                "secret_access_key",
                &self.secret_access_key.as_ref().map(|_| "***"),
            )
            .field("session_token", &self.session_token.as_ref().map(|_| "***"))
            .field("path_style", &self.path_style)
            .finish()
    }
}

impl S3Config {
    /// Plain HTTP is allowed only when the endpoint itself says `http://`.
    pub fn allow_http(&self) -> bool {
        self.endpoint
            .as_deref()
            .is_some_and(|e| e.starts_with("http://"))
    }
}

/// How ingest hands its data files to a commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommitMode {
    /// Ingest commits itself (small setups).
    Direct,
    /// Ingest sends a commit request to this SQS FIFO queue; the commit function commits.
    Queue(String),
}

/// Per-object input limits, sized for a 1-2 GB function; every limit is named in the error of
/// the object that crosses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// `FLOE_MAX_RECORD_BYTES`: one CSV/JSON record (default 16 MiB).
    pub max_record_bytes: u64,
    /// `FLOE_MAX_DECOMPRESSED_BYTES`: bytes one object may inflate to (default 20 GiB).
    pub max_decompressed_bytes: u64,
    /// `FLOE_MAX_FILES_PER_OBJECT`: data files one object may write (default 1,000; partitions
    /// beyond it are refused instead of writing a file per partition without bound).
    pub max_files_per_object: usize,
    /// `FLOE_MAX_COLUMNS`: columns an object may have (default 10,000).
    pub max_columns: usize,
    /// `FLOE_READ_AHEAD_BYTES`: bytes of a large CSV, JSON-lines or Avro object fetched ahead
    /// as ranged GETs of 8 MiB on their own tasks (default 0: one GET stream, which measured
    /// faster here; see README "Reads").
    pub read_ahead_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_record_bytes: 16 << 20,
            max_decompressed_bytes: 20 << 30,
            max_files_per_object: 1_000,
            max_columns: 10_000,
            read_ahead_bytes: 0,
        }
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object per line (CloudWatch Logs Insights friendly); default inside Lambda.
    Json,
    /// Human-readable text; default elsewhere.
    Text,
}

/// Floe's whole configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Catalog settings.
    pub catalog: CatalogConfig,
    /// S3 settings.
    pub s3: S3Config,
    /// `FLOE_TABLE_SPECS`: directory (or single file) of `*.toml` table specs, local or `s3://`.
    pub table_specs: String,
    /// `FLOE_DEFAULT_NAMESPACE`: namespace for specs that name none (default `floe`).
    pub default_namespace: String,
    /// `FLOE_QUARANTINE_URL`: where unreadable objects are copied whole (default
    /// `s3://<source bucket>/_floe_quarantine`).
    pub quarantine_url: Option<String>,
    /// `FLOE_QUARANTINE_TABLE`: `namespace.table` of the quarantine table (default
    /// `<FLOE_DEFAULT_NAMESPACE>.quarantine`), parsed once here.
    pub quarantine_table: iceberg::TableIdent,
    /// `FLOE_REPORTS_URL`: where table-check reports are written (`s3://bucket/prefix`); optional.
    pub reports_url: Option<String>,
    /// `FLOE_BATCH_ROWS`: rows per Arrow record batch while decoding (default 65536).
    pub batch_rows: usize,
    /// `FLOE_PARTITION_BUFFER_BYTES`: input bytes a partitioned write buffers before closing its
    /// open partition files (default 128 MiB; bounds memory when input is not sorted by partition).
    pub partition_buffer_bytes: usize,
    /// `FLOE_WRITE_PIPELINE`: `auto` (default: on when the function has more than one vCPU),
    /// `on` or `off` — encode and compress Parquet on its own task while the next batch is
    /// decoded and checked.
    pub write_pipeline: bool,
    /// `FLOE_COMMIT_MODE` (`direct` default, or `queue`) with `FLOE_COMMIT_QUEUE_URL`.
    pub commit_mode: CommitMode,
    /// `FLOE_COMMIT_MAX_ATTEMPTS`: Floe-level commit attempts on conflict (default 10).
    pub commit_max_attempts: u32,
    /// `FLOE_COMPACT_QUEUE_URL`: SQS queue the compact function spreads file groups over
    /// (optional; without it a run rewrites its groups itself).
    pub compact_queue_url: Option<String>,
    /// `AWS_ENDPOINT_URL_SQS`: the SQS API endpoint (an emulator such as moto); AWS when unset.
    pub sqs_endpoint: Option<String>,
    /// Per-object input limits (`FLOE_MAX_*`); past one the object is quarantined whole.
    pub limits: Limits,
    /// `FLOE_REDELIVERY_WINDOW_HOURS`: the longest time an event or commit request can take to
    /// arrive (queue retention + DLQ retention + redrive; default 432 h = 18 days). Idempotency
    /// keys are kept at least this long (snapshot expiry never goes below it), orphan removal
    /// waits at least this long, and older commit requests are refused instead of committing
    /// files that may be gone.
    pub redelivery_window_ms: i64,
    /// `FLOE_COMMIT_DLQ_URL`: the commit queue's DLQ; requests that can never succeed are moved
    /// there at once instead of blocking their table's FIFO group (optional).
    pub commit_dlq_url: Option<String>,
    /// `FLOE_LOG_FORMAT`: `json` or `text`.
    pub log_format: LogFormat,
    /// `FLOE_LOG_LEVEL` / `RUST_LOG` filter (default `info`).
    pub log_filter: String,
}

/// Variables with no default that every function needs, whatever the catalog (the Terraform
/// wiring test in `infra/tests` reads this list).
pub const REQUIRED_VARS: &[&str] = &["FLOE_CATALOG_TYPE", "FLOE_WAREHOUSE", "FLOE_TABLE_SPECS"];

/// Extra variables required per `FLOE_CATALOG_TYPE` (`FLOE_CATALOG_TYPE` itself defaults to `sql`
/// locally; deployments set it explicitly).
pub const REQUIRED_BY_CATALOG: &[(&str, &[&str])] = &[
    ("sql", &["FLOE_CATALOG_URI"]),
    ("rest", &["FLOE_CATALOG_URI"]),
    ("glue", &[]),
    ("s3tables", &[]),
];

/// One invalid or missing variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    /// The environment variable at fault.
    pub variable: &'static str,
    /// What is wrong and how to fix it.
    pub message: String,
}

/// All problems found while reading the environment.
#[derive(Debug, Clone, thiserror::Error)]
pub struct ConfigError {
    /// Each problem, in the order found.
    pub problems: Vec<ConfigProblem>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid Floe configuration:")?;
        for p in &self.problems {
            write!(f, "\n  - {}: {}", p.variable, p.message)?;
        }
        Ok(())
    }
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        let vars: HashMap<String, String> = std::env::vars().collect();
        Self::from_vars(&vars)
    }

    /// Reads configuration from a map of variables (the environment, or a test's map).
    pub fn from_vars(vars: &HashMap<String, String>) -> Result<Self, ConfigError> {
        let mut problems = Vec::new();
        let get = |k: &str| {
            vars.get(k)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };

        let catalog = catalog_section(&get, &mut problems);

        let s3 = s3_section(&get, &mut problems);

        let table_specs = table_specs_var(&get, &mut problems);

        let quarantine_url = storage_url(
            &mut problems,
            "FLOE_QUARANTINE_URL",
            get("FLOE_QUARANTINE_URL"),
        );
        let reports_url = storage_url(&mut problems, "FLOE_REPORTS_URL", get("FLOE_REPORTS_URL"));
        let default_namespace = get("FLOE_DEFAULT_NAMESPACE").unwrap_or_else(|| "floe".into());
        let quarantine_table = quarantine_table_var(&get, &mut problems, &default_namespace);
        let batch_rows = parse_num(
            &mut problems,
            "FLOE_BATCH_ROWS",
            get("FLOE_BATCH_ROWS"),
            65_536usize,
            1..=1_048_576,
        );
        let partition_buffer_bytes = parse_num(
            &mut problems,
            "FLOE_PARTITION_BUFFER_BYTES",
            get("FLOE_PARTITION_BUFFER_BYTES"),
            DEFAULT_PARTITION_BUFFER_BYTES,
            1..=(16usize << 30),
        );
        let write_pipeline = match get("FLOE_WRITE_PIPELINE").as_deref() {
            None | Some("auto") => std::thread::available_parallelism().map_or(1, usize::from) > 1,
            Some("on") => true,
            Some("off") => false,
            Some(other) => {
                problems.push(ConfigProblem {
                    variable: "FLOE_WRITE_PIPELINE",
                    message: format!("`{other}` must be auto, on or off"),
                });
                false
            }
        };
        let commit_max_attempts = parse_num(
            &mut problems,
            "FLOE_COMMIT_MAX_ATTEMPTS",
            get("FLOE_COMMIT_MAX_ATTEMPTS"),
            10u32,
            1..=100,
        );
        let compact_queue_url = compact_queue_var(&get, &mut problems);
        let commit_mode = commit_mode_section(&get, &mut problems);
        let limits = limits_section(&get, &mut problems);
        let redelivery_window_hours = parse_num(
            &mut problems,
            "FLOE_REDELIVERY_WINDOW_HOURS",
            get("FLOE_REDELIVERY_WINDOW_HOURS"),
            432i64,
            0..=24 * 365,
        );
        let commit_dlq_url = get("FLOE_COMMIT_DLQ_URL");
        let log_format = log_format_section(&get, &mut problems);

        if !problems.is_empty() {
            return Err(ConfigError { problems });
        }
        Ok(Config {
            catalog,
            s3,
            table_specs,
            default_namespace,
            quarantine_url,
            quarantine_table,
            reports_url,
            compact_queue_url,
            sqs_endpoint: get("AWS_ENDPOINT_URL_SQS"),
            batch_rows,
            commit_max_attempts,
            commit_mode,
            partition_buffer_bytes,
            write_pipeline,
            limits,
            redelivery_window_ms: redelivery_window_hours * 3_600_000,
            commit_dlq_url,
            log_format,
            log_filter: get("FLOE_LOG_LEVEL")
                .or_else(|| get("RUST_LOG"))
                .unwrap_or_else(|| "info".into()),
        })
    }
}

/// `FLOE_TABLE_SPECS`: required; a local directory must exist.
fn table_specs_var(
    get: &impl Fn(&str) -> Option<String>,
    problems: &mut Vec<ConfigProblem>,
) -> String {
    let table_specs = get("FLOE_TABLE_SPECS").unwrap_or_else(|| {
        problems.push(ConfigProblem {
            variable: "FLOE_TABLE_SPECS",
            message: "required: a directory or s3:// prefix holding the `*.toml` table specs"
                .into(),
        });
        String::new()
    });
    if !table_specs.is_empty()
        && !table_specs.starts_with("s3://")
        && !PathBuf::from(&table_specs).exists()
    {
        problems.push(ConfigProblem {
            variable: "FLOE_TABLE_SPECS",
            message: format!("`{table_specs}` does not exist"),
        });
    }

    table_specs
}

/// `FLOE_QUARANTINE_TABLE` (default `<namespace>.quarantine`), parsed once into an identifier.
fn quarantine_table_var(
    get: &impl Fn(&str) -> Option<String>,
    problems: &mut Vec<ConfigProblem>,
    default_namespace: &str,
) -> iceberg::TableIdent {
    let quarantine_name =
        get("FLOE_QUARANTINE_TABLE").unwrap_or_else(|| format!("{default_namespace}.quarantine"));
    match parse_table_name(&quarantine_name) {
        Some(ident) => ident,
        None => {
            problems.push(ConfigProblem {
                variable: "FLOE_QUARANTINE_TABLE",
                message: format!("`{quarantine_name}` must be `namespace.table`"),
            });
            iceberg::TableIdent::from_strs(["floe", "quarantine"]).expect("a valid name")
        }
    }
}

/// `FLOE_COMPACT_QUEUE_URL`: an SQS queue URL when set.
fn compact_queue_var(
    get: &impl Fn(&str) -> Option<String>,
    problems: &mut Vec<ConfigProblem>,
) -> Option<String> {
    let compact_queue_url = get("FLOE_COMPACT_QUEUE_URL");
    if let Some(u) = &compact_queue_url {
        if !u.starts_with("https://") && !u.starts_with("http://") {
            problems.push(ConfigProblem {
                variable: "FLOE_COMPACT_QUEUE_URL",
                message: format!(
                    "`{u}` is not an SQS queue URL (https://sqs.<region>.amazonaws.com/...)"
                ),
            });
        }
    }
    compact_queue_url
}

/// An optional `s3://` / `file://` location.
fn storage_url(
    problems: &mut Vec<ConfigProblem>,
    var: &'static str,
    v: Option<String>,
) -> Option<String> {
    if let Some(u) = &v {
        if !(u.starts_with("s3://") || u.starts_with("file://")) {
            problems.push(ConfigProblem {
                variable: var,
                message: format!("`{u}` must be an `s3://bucket/prefix` or `file:///path` URL"),
            });
        }
    }
    v
}

fn parse_bool(
    problems: &mut Vec<ConfigProblem>,
    var: &'static str,
    v: Option<String>,
    default: bool,
) -> bool {
    match v.as_deref().map(str::to_ascii_lowercase).as_deref() {
        None => default,
        Some("true" | "1" | "yes") => true,
        Some("false" | "0" | "no") => false,
        Some(other) => {
            problems.push(ConfigProblem {
                variable: var,
                message: format!("`{other}` is not a boolean; use true or false"),
            });
            default
        }
    }
}

/// `FLOE_CATALOG_*`, `FLOE_WAREHOUSE` and the catalog API endpoints.
fn catalog_section(
    get: &impl Fn(&str) -> Option<String>,
    problems: &mut Vec<ConfigProblem>,
) -> CatalogConfig {
    let named = get("FLOE_CATALOG_TYPE");
    let named = named.as_deref().unwrap_or("sql");
    let kind = match CatalogKind::ALL.into_iter().find(|k| k.name() == named) {
        Some(kind) => kind,
        None => {
            problems.push(ConfigProblem {
                variable: "FLOE_CATALOG_TYPE",
                message: format!(
                    "unknown catalog type `{named}`; use `sql`, `rest`, `glue` or `s3tables`"
                ),
            });
            CatalogKind::Sql
        }
    };
    if !kind.built_in() {
        problems.push(ConfigProblem {
            variable: "FLOE_CATALOG_TYPE",
            message: not_built(&kind),
        });
    }
    let uri = get("FLOE_CATALOG_URI");
    match (&kind, &uri) {
        (CatalogKind::Sql, None) => problems.push(ConfigProblem {
            variable: "FLOE_CATALOG_URI",
            message: "required for the SQL catalog, e.g. `sqlite:///tmp/floe/catalog.db?mode=rwc` or `postgres://user:pw@host/db`".into(),
        }),
        (CatalogKind::Sql, Some(u)) if !(u.starts_with("sqlite:") || u.starts_with("postgres://") || u.starts_with("postgresql://")) => {
            problems.push(ConfigProblem {
                variable: "FLOE_CATALOG_URI",
                message: format!("`{}` is not a SQL URL; use `sqlite://...` or `postgres://...`", redact_url(u)),
            })
        }
        (CatalogKind::Rest, None) => problems.push(ConfigProblem {
            variable: "FLOE_CATALOG_URI",
            message: "required for the REST catalog, e.g. `http://127.0.0.1:8181`".into(),
        }),
        (CatalogKind::Rest, Some(u))
            if (get("FLOE_CATALOG_CREDENTIAL").is_some()
                || get("FLOE_CATALOG_CREDENTIAL_SECRET_ARN").is_some())
                && u.starts_with("http://")
                && !is_loopback_url(u) =>
        {
            problems.push(ConfigProblem {
                variable: "FLOE_CATALOG_CREDENTIAL",
                message: format!("would be sent in clear text to `{u}`: use an https:// catalog URI (plain http is accepted for 127.0.0.1 / localhost only)"),
            })
        }
        _ => {}
    }
    if get("FLOE_CATALOG_CREDENTIAL").is_some()
        && get("FLOE_CATALOG_CREDENTIAL_SECRET_ARN").is_some()
    {
        problems.push(ConfigProblem {
            variable: "FLOE_CATALOG_CREDENTIAL_SECRET_ARN",
            message:
                "set either FLOE_CATALOG_CREDENTIAL or FLOE_CATALOG_CREDENTIAL_SECRET_ARN, not both"
                    .into(),
        });
    }
    let token_max_age_secs = parse_num(
        problems,
        "FLOE_CATALOG_TOKEN_MAX_AGE_SECS",
        get("FLOE_CATALOG_TOKEN_MAX_AGE_SECS"),
        1800u64,
        60..=86_400,
    );
    let warehouse = match get("FLOE_WAREHOUSE") {
        // `s3://bucket/` and `s3://bucket` name the same place: table paths must not get `//`.
        Some(w) if w.starts_with("s3://") || w.starts_with("file://") => {
            w.trim_end_matches('/').to_string()
        }
        Some(w) if kind == CatalogKind::Rest => w,
        Some(w) if kind == CatalogKind::S3Tables => {
            if !(w.starts_with("arn:") && w.contains(":s3tables:") && w.contains(":bucket/")) {
                problems.push(ConfigProblem {
                    variable: "FLOE_WAREHOUSE",
                    message: format!("`{w}` is not a table bucket ARN; S3 Tables wants `arn:aws:s3tables:<region>:<account>:bucket/<name>`"),
                });
            }
            w
        }
        Some(w) => {
            problems.push(ConfigProblem {
                variable: "FLOE_WAREHOUSE",
                message: format!("`{w}` must be an `s3://bucket/prefix` or `file:///path` URL"),
            });
            w
        }
        None => {
            problems.push(ConfigProblem {
                variable: "FLOE_WAREHOUSE",
                message: "required: where tables live, e.g. `s3://my-warehouse/`".into(),
            });
            String::new()
        }
    };

    CatalogConfig {
        kind,
        name: get("FLOE_CATALOG_NAME").unwrap_or_else(|| "floe".into()),
        uri,
        warehouse,
        credential: get("FLOE_CATALOG_CREDENTIAL"),
        credential_secret_arn: get("FLOE_CATALOG_CREDENTIAL_SECRET_ARN"),
        secretsmanager_endpoint: get("AWS_ENDPOINT_URL_SECRETSMANAGER"),
        glue_catalog_id: get("FLOE_CATALOG_ID"),
        glue_endpoint: get("AWS_ENDPOINT_URL_GLUE"),
        s3tables_endpoint: get("AWS_ENDPOINT_URL_S3TABLES"),
        token_max_age: std::time::Duration::from_secs(token_max_age_secs),
    }
}

/// The S3 client settings (`AWS_*`, `FLOE_S3_PATH_STYLE`).
fn s3_section(
    get: &impl Fn(&str) -> Option<String>,
    problems: &mut Vec<ConfigProblem>,
) -> S3Config {
    let endpoint = get("AWS_ENDPOINT_URL_S3").or_else(|| get("AWS_ENDPOINT_URL"));
    if let Some(e) = &endpoint {
        if !(e.starts_with("http://") || e.starts_with("https://")) {
            problems.push(ConfigProblem {
                variable: "AWS_ENDPOINT_URL",
                message: format!("`{e}` must start with http:// or https://"),
            });
        }
    }
    let path_style = parse_bool(
        problems,
        "FLOE_S3_PATH_STYLE",
        get("FLOE_S3_PATH_STYLE"),
        endpoint.is_some(),
    );
    let access_key_id = get("AWS_ACCESS_KEY_ID");
    let secret_access_key = get("AWS_SECRET_ACCESS_KEY");
    if access_key_id.is_some() != secret_access_key.is_some() {
        problems.push(ConfigProblem {
            variable: "AWS_SECRET_ACCESS_KEY",
            message: "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set together".into(),
        });
    }
    S3Config {
        endpoint,
        region: get("AWS_REGION")
            .or_else(|| get("AWS_DEFAULT_REGION"))
            .unwrap_or_else(|| "us-east-1".into()),
        access_key_id,
        secret_access_key,
        session_token: get("AWS_SESSION_TOKEN"),
        path_style,
    }
}

/// `FLOE_COMMIT_MODE` with `FLOE_COMMIT_QUEUE_URL`.
fn commit_mode_section(
    get: &impl Fn(&str) -> Option<String>,
    problems: &mut Vec<ConfigProblem>,
) -> CommitMode {
    match (
        get("FLOE_COMMIT_MODE").as_deref().unwrap_or("direct"),
        get("FLOE_COMMIT_QUEUE_URL"),
    ) {
        ("direct", _) => CommitMode::Direct,
        ("queue", Some(url)) if url.ends_with(".fifo") => CommitMode::Queue(url),
        ("queue", Some(url)) => {
            problems.push(ConfigProblem {
                variable: "FLOE_COMMIT_QUEUE_URL",
                message: format!("`{url}` must be an SQS FIFO queue URL (ending in `.fifo`)"),
            });
            CommitMode::Direct
        }
        ("queue", None) => {
            problems.push(ConfigProblem {
                variable: "FLOE_COMMIT_QUEUE_URL",
                message: "required with FLOE_COMMIT_MODE=queue: the commit queue's URL".into(),
            });
            CommitMode::Direct
        }
        (other, _) => {
            problems.push(ConfigProblem {
                variable: "FLOE_COMMIT_MODE",
                message: format!("unknown commit mode `{other}`; use `direct` or `queue`"),
            });
            CommitMode::Direct
        }
    }
}

/// The per-object input limits (`FLOE_MAX_*`).
fn limits_section(
    get: &impl Fn(&str) -> Option<String>,
    problems: &mut Vec<ConfigProblem>,
) -> Limits {
    let d = Limits::default();
    Limits {
        max_record_bytes: parse_num(
            problems,
            "FLOE_MAX_RECORD_BYTES",
            get("FLOE_MAX_RECORD_BYTES"),
            d.max_record_bytes,
            1..=(1u64 << 31),
        ),
        max_decompressed_bytes: parse_num(
            problems,
            "FLOE_MAX_DECOMPRESSED_BYTES",
            get("FLOE_MAX_DECOMPRESSED_BYTES"),
            d.max_decompressed_bytes,
            1..=(1u64 << 50),
        ),
        max_files_per_object: parse_num(
            problems,
            "FLOE_MAX_FILES_PER_OBJECT",
            get("FLOE_MAX_FILES_PER_OBJECT"),
            d.max_files_per_object,
            1..=1_000_000,
        ),
        max_columns: parse_num(
            problems,
            "FLOE_MAX_COLUMNS",
            get("FLOE_MAX_COLUMNS"),
            d.max_columns,
            1..=1_000_000,
        ),
        read_ahead_bytes: parse_num(
            problems,
            "FLOE_READ_AHEAD_BYTES",
            get("FLOE_READ_AHEAD_BYTES"),
            d.read_ahead_bytes,
            0..=(1u64 << 30),
        ),
    }
}

/// `FLOE_LOG_FORMAT`: JSON in Lambda, text elsewhere, unless set.
fn log_format_section(
    get: &impl Fn(&str) -> Option<String>,
    problems: &mut Vec<ConfigProblem>,
) -> LogFormat {
    let in_lambda = get("AWS_LAMBDA_FUNCTION_NAME").is_some();
    match get("FLOE_LOG_FORMAT").as_deref() {
        None => {
            if in_lambda {
                LogFormat::Json
            } else {
                LogFormat::Text
            }
        }
        Some("json") => LogFormat::Json,
        Some("text") => LogFormat::Text,
        Some(other) => {
            problems.push(ConfigProblem {
                variable: "FLOE_LOG_FORMAT",
                message: format!("unknown log format `{other}`; use `json` or `text`"),
            });
            LogFormat::Text
        }
    }
}

fn parse_num<T>(
    problems: &mut Vec<ConfigProblem>,
    var: &'static str,
    v: Option<String>,
    default: T,
    range: std::ops::RangeInclusive<T>,
) -> T
where
    T: std::str::FromStr + PartialOrd + fmt::Display + Copy,
{
    let Some(raw) = v else { return default };
    match raw.parse::<T>() {
        Ok(n) if range.contains(&n) => n,
        _ => {
            problems.push(ConfigProblem {
                variable: var,
                message: format!(
                    "`{raw}` must be a number from {} to {}",
                    range.start(),
                    range.end()
                ),
            });
            default
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn required_vars_are_exactly_what_a_glue_deployment_needs() {
        let dir = std::env::temp_dir();
        let full: HashMap<String, String> = [
            ("FLOE_CATALOG_TYPE", "glue"),
            ("FLOE_WAREHOUSE", "s3://w/"),
            ("FLOE_TABLE_SPECS", dir.to_str().unwrap()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(full.len(), REQUIRED_VARS.len());
        assert!(Config::from_vars(&full).is_ok());
        for var in ["FLOE_WAREHOUSE", "FLOE_TABLE_SPECS"] {
            let mut v = full.clone();
            v.remove(var);
            let e = Config::from_vars(&v).unwrap_err();
            assert!(e.problems.iter().any(|p| p.variable == var), "{var}: {e}");
        }
        for (kind, extra) in REQUIRED_BY_CATALOG {
            let mut v = full.clone();
            v.insert("FLOE_CATALOG_TYPE".into(), kind.to_string());
            for var in *extra {
                let e = Config::from_vars(&v).unwrap_err();
                assert!(e.problems.iter().any(|p| p.variable == *var), "{kind}: {e}");
            }
        }
    }

    /// Run in the default build (every catalog) and, by `.ci/run`, in a Glue-only build, where
    /// the other three kinds must be refused at start-up naming their feature.
    #[test]
    fn a_catalog_the_build_left_out_is_refused_at_start_up() {
        let dir = std::env::temp_dir();
        for kind in CatalogKind::ALL {
            let v = vars(&[
                ("FLOE_CATALOG_TYPE", kind.name()),
                ("FLOE_CATALOG_URI", "sqlite:///tmp/c.db"),
                ("FLOE_WAREHOUSE", "s3://w/"),
                ("FLOE_TABLE_SPECS", dir.to_str().unwrap()),
            ]);
            let refused = Config::from_vars(&v).err().is_some_and(|e| {
                e.problems.iter().any(|p| {
                    p.variable == "FLOE_CATALOG_TYPE"
                        && p.message.contains(&format!("`catalog-{}`", kind.name()))
                })
            });
            assert_eq!(refused, !kind.built_in(), "{kind:?}");
        }
        assert_eq!(CatalogKind::Glue.built_in(), cfg!(feature = "catalog-glue"));
    }

    #[test]
    fn secrets_stay_out_of_debug_output_and_errors() {
        let dir = std::env::temp_dir();
        let c = Config::from_vars(&vars(&[
            ("FLOE_CATALOG_TYPE", "rest"),
            ("FLOE_CATALOG_URI", "https://catalog.example.com"),
            ("FLOE_CATALOG_CREDENTIAL", "client:hunter2"),
            ("AWS_ACCESS_KEY_ID", "AKID"),
            ("AWS_SECRET_ACCESS_KEY", "s3cr3t"),
            ("FLOE_WAREHOUSE", "s3://w/"),
            ("FLOE_TABLE_SPECS", dir.to_str().unwrap()),
        ]))
        .unwrap();
        let shown = format!("{c:?}");
        assert!(
            !shown.contains("hunter2") && !shown.contains("s3cr3t"),
            "{shown}"
        );
        assert_eq!(
            redact_url("postgres://floe:pw@db:5432/cat"),
            "postgres://floe:***@db:5432/cat"
        );
        assert_eq!(redact_url("sqlite:///tmp/c.db"), "sqlite:///tmp/c.db");
        let e = Config::from_vars(&vars(&[
            ("FLOE_CATALOG_URI", "mysql://u:pw@h/db"),
            ("FLOE_WAREHOUSE", "s3://w/"),
            ("FLOE_TABLE_SPECS", dir.to_str().unwrap()),
        ]))
        .unwrap_err();
        assert!(!e.to_string().contains(":pw@"), "{e}");
    }

    #[test]
    fn a_rest_credential_is_refused_over_plain_http_except_to_loopback() {
        let dir = std::env::temp_dir();
        let with = |uri: &str| {
            Config::from_vars(&vars(&[
                ("FLOE_CATALOG_TYPE", "rest"),
                ("FLOE_CATALOG_URI", uri),
                ("FLOE_CATALOG_CREDENTIAL", "client:secret"),
                ("FLOE_WAREHOUSE", "s3://w/"),
                ("FLOE_TABLE_SPECS", dir.to_str().unwrap()),
            ]))
        };
        let e = with("http://catalog.example.com:8181").unwrap_err();
        assert!(
            e.problems
                .iter()
                .any(|p| p.variable == "FLOE_CATALOG_CREDENTIAL"),
            "{e}"
        );
        for ok in [
            "https://catalog.example.com",
            "http://127.0.0.1:8181",
            "http://localhost:8181",
            "http://[::1]:8181",
        ] {
            assert!(with(ok).is_ok(), "{ok}");
        }
    }

    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn reports_every_problem_with_its_variable() {
        let err = Config::from_vars(&vars(&[
            ("FLOE_CATALOG_TYPE", "hive"),
            ("FLOE_BATCH_ROWS", "zero"),
            ("AWS_ENDPOINT_URL", "localhost:9000"),
        ]))
        .unwrap_err();
        let names: Vec<_> = err.problems.iter().map(|p| p.variable).collect();
        for expected in [
            "FLOE_CATALOG_TYPE",
            "FLOE_WAREHOUSE",
            "AWS_ENDPOINT_URL",
            "FLOE_TABLE_SPECS",
            "FLOE_BATCH_ROWS",
        ] {
            assert!(
                names.contains(&expected),
                "{expected} missing from {names:?}"
            );
        }
        assert!(err.to_string().contains("unknown catalog type `hive`"));
    }

    #[test]
    fn custom_endpoint_defaults_to_path_style_and_http_only_when_endpoint_is_http() {
        let dir = std::env::temp_dir();
        let c = Config::from_vars(&vars(&[
            ("FLOE_CATALOG_URI", "sqlite:///tmp/c.db"),
            ("FLOE_WAREHOUSE", "s3://wh/"),
            ("FLOE_TABLE_SPECS", dir.to_str().unwrap()),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:9000"),
        ]))
        .unwrap();
        assert!(c.s3.path_style);
        assert!(c.s3.allow_http());
        assert_eq!(c.batch_rows, 65_536);
        let aws = S3Config {
            endpoint: Some("https://s3.amazonaws.com".into()),
            ..Default::default()
        };
        assert!(!aws.allow_http());
    }
}

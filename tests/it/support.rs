//! Test harness: a real S3 server (SeaweedFS started by scripts/test.sh, endpoint in
//! FLOE_TEST_S3_ENDPOINT) and a fresh SQLite catalog, warehouse prefix and spec dir per test.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use arrow_array::RecordBatch;
use floe::config::Config;
use floe::ingest::Ingestor;
use floe::queue::{CommitQueue, CommitRequest};
use floe::storage::Stores;
use futures::TryStreamExt;
use iceberg::table::Table;
use iceberg::TableIdent;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

pub const LANDING: &str = "floe-landing";

/// moto's endpoint (FLOE_TEST_MOTO_ENDPOINT, set by scripts/test.sh); fails loudly without it.
pub fn moto_endpoint() -> String {
    std::env::var("FLOE_TEST_MOTO_ENDPOINT").expect(
        "FLOE_TEST_MOTO_ENDPOINT is not set: run the tests with `make test` (scripts/test.sh starts moto)",
    )
}

/// An AWS SDK configuration pointed at moto (any credentials: moto does not check them).
pub async fn moto_sdk_config() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(moto_endpoint())
        .credentials_provider(aws_sdk_s3::config::Credentials::new(
            "AKIDMOTO", "moto", None, None, "moto",
        ))
        .load()
        .await
}

/// One test's isolated world.
pub struct TestEnv {
    pub id: String,
    pub dir: PathBuf,
    pub vars: HashMap<String, String>,
}

impl TestEnv {
    /// Needs the S3 server from `scripts/test.sh` (`make test`); fails loudly without it.
    pub fn new(specs: &[(&str, String)]) -> Self {
        let endpoint = std::env::var("FLOE_TEST_S3_ENDPOINT").expect(
            "FLOE_TEST_S3_ENDPOINT is not set: run the integration tests with `make test` (scripts/test.sh starts SeaweedFS)",
        );
        let id = uuid::Uuid::now_v7().simple().to_string();
        let dir = std::env::temp_dir().join(format!("floe-it-{id}"));
        let spec_dir = dir.join("tables");
        std::fs::create_dir_all(&spec_dir).unwrap();
        for (name, text) in specs {
            std::fs::write(spec_dir.join(format!("{name}.toml")), text).unwrap();
        }
        let mut vars = HashMap::new();
        for (k, v) in [
            ("AWS_ENDPOINT_URL", endpoint.as_str()),
            (
                "AWS_ACCESS_KEY_ID",
                &std::env::var("AWS_ACCESS_KEY_ID").unwrap_or("AKIDFLOE".into()),
            ),
            (
                "AWS_SECRET_ACCESS_KEY",
                &std::env::var("AWS_SECRET_ACCESS_KEY").unwrap_or("floe-local-secret".into()),
            ),
            ("AWS_REGION", "us-east-1"),
            ("FLOE_CATALOG_TYPE", "sql"),
            (
                "FLOE_CATALOG_URI",
                &format!("sqlite://{}/catalog.db", dir.display()),
            ),
            ("FLOE_WAREHOUSE", &format!("s3://floe-warehouse/it-{id}")),
            ("FLOE_TABLE_SPECS", spec_dir.to_str().unwrap()),
            ("FLOE_DEFAULT_NAMESPACE", "it"),
            ("FLOE_BATCH_ROWS", "256"),
        ] {
            vars.insert(k.to_string(), v.to_string());
        }
        Self { id, dir, vars }
    }

    /// Like [`TestEnv::new`], with a PostgreSQL catalog (FLOE_TEST_POSTGRES_URL, started by
    /// scripts/test.sh) under a catalog name of its own, and room for many commit retries.
    pub fn with_postgres(specs: &[(&str, String)]) -> Self {
        let pg = std::env::var("FLOE_TEST_POSTGRES_URL").expect(
            "FLOE_TEST_POSTGRES_URL is not set: run the tests with `make test` (scripts/test.sh starts PostgreSQL)",
        );
        let mut env = Self::new(specs);
        env.vars.insert("FLOE_CATALOG_URI".into(), pg);
        env.vars
            .insert("FLOE_CATALOG_NAME".into(), format!("it-{}", env.id));
        env.vars
            .insert("FLOE_COMMIT_MAX_ATTEMPTS".into(), "30".into());
        env
    }

    /// Like [`TestEnv::new`], with SeaweedFS's Iceberg REST catalog (FLOE_TEST_REST_URI, its table
    /// bucket in FLOE_TEST_REST_WAREHOUSE; both set by scripts/test.sh). The catalog outlives the
    /// test, so callers use table names unique to the run.
    pub fn with_rest(specs: &[(&str, String)]) -> Self {
        let uri = std::env::var("FLOE_TEST_REST_URI")
            .expect("FLOE_TEST_REST_URI is not set: run the tests with `make test`");
        let warehouse = std::env::var("FLOE_TEST_REST_WAREHOUSE")
            .expect("FLOE_TEST_REST_WAREHOUSE is not set: run the tests with `make test`");
        let mut env = Self::new(specs);
        let credential = format!(
            "{}:{}",
            env.vars["AWS_ACCESS_KEY_ID"], env.vars["AWS_SECRET_ACCESS_KEY"]
        );
        for (k, v) in [
            ("FLOE_CATALOG_TYPE", "rest".to_string()),
            ("FLOE_CATALOG_URI", uri),
            ("FLOE_WAREHOUSE", warehouse),
            ("FLOE_CATALOG_CREDENTIAL", credential),
        ] {
            env.vars.insert(k.into(), v);
        }
        env
    }

    /// Like [`TestEnv::new`], with a Glue catalog on moto (FLOE_TEST_MOTO_ENDPOINT, started by
    /// scripts/test.sh with AWS's VersionId check on UpdateTable). Each test gets a Glue database
    /// of its own (moto's state outlives the test); table files stay on the S3 server.
    pub fn with_glue(specs: &[(&str, String)]) -> Self {
        let moto = moto_endpoint();
        let mut env = Self::new(specs);
        let database = format!("it_{}", env.id);
        for (k, v) in [
            ("FLOE_CATALOG_TYPE", "glue".to_string()),
            ("AWS_ENDPOINT_URL_GLUE", moto),
            ("FLOE_DEFAULT_NAMESPACE", database),
            ("FLOE_COMMIT_MAX_ATTEMPTS", "30".to_string()),
        ] {
            env.vars.insert(k.into(), v);
        }
        env.vars.remove("FLOE_CATALOG_URI");
        env
    }

    /// Like [`TestEnv::new`], with an S3 Tables table bucket of its own on moto
    /// (FLOE_TEST_MOTO_ENDPOINT) as the catalog. S3 Tables puts table files in buckets of its own
    /// making, which only moto's S3 has: here landing objects and table files are on moto's S3 too.
    pub async fn with_s3tables(specs: &[(&str, String)]) -> Self {
        let moto = moto_endpoint();
        let mut env = Self::new(specs);
        let conf = moto_sdk_config().await;
        let bucket = aws_sdk_s3tables::Client::new(&conf)
            .create_table_bucket()
            .name(format!("it-{}", env.id))
            .send()
            .await
            .expect("create the table bucket on moto");
        let s3 = aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&conf)
                .force_path_style(true)
                .build(),
        );
        // Already there from an earlier test: fine.
        let _ = s3.create_bucket().bucket(LANDING).send().await;
        for (k, v) in [
            ("FLOE_CATALOG_TYPE", "s3tables".to_string()),
            ("FLOE_WAREHOUSE", bucket.arn),
            ("AWS_ENDPOINT_URL", moto.clone()),
            ("AWS_ENDPOINT_URL_S3TABLES", moto),
        ] {
            env.vars.insert(k.into(), v);
        }
        env.vars.remove("FLOE_CATALOG_URI");
        env
    }

    /// The namespace tables of this test live in (Glue: its database).
    pub fn namespace(&self) -> &str {
        &self.vars["FLOE_DEFAULT_NAMESPACE"]
    }

    pub fn config(&self) -> Config {
        Config::from_vars(&self.vars).expect("test config")
    }

    pub async fn ingestor(&self) -> Ingestor {
        Ingestor::new(self.config()).await.expect("ingestor")
    }

    pub fn stores(&self) -> Stores {
        Stores::new(self.config().s3)
    }

    /// A landing key unique to this test under `prefix`.
    pub fn key(&self, prefix: &str, name: &str) -> String {
        format!("{prefix}{}/{name}", self.id)
    }

    pub async fn put(&self, key: &str, bytes: Vec<u8>) {
        let store = self.stores().bucket(LANDING).unwrap();
        store
            .put(
                &object_store::path::Path::from(key),
                PutPayload::from(bytes),
            )
            .await
            .expect("put object");
    }

    /// Uploads with aws-sdk-s3: the key goes to S3 exactly as given (no client-side re-encoding
    /// like object_store's `Path`), as a user's own tools would upload it. Returns the ETag.
    pub async fn put_raw(&self, key: &str, bytes: Vec<u8>) -> String {
        let out = self
            .s3_client()
            .await
            .put_object()
            .bucket(LANDING)
            .key(key)
            .body(bytes.into())
            .send()
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "put {key:?}: {}",
                    aws_sdk_s3::error::DisplayErrorContext(&e)
                )
            });
        out.e_tag()
            .unwrap_or_default()
            .trim_matches('"')
            .to_string()
    }

    /// A plain aws-sdk-s3 client on the test S3 server.
    pub async fn s3_client(&self) -> aws_sdk_s3::Client {
        floe::landing::Landing::new(&self.config().s3)
            .await
            .client()
            .expect("an S3 landing")
            .clone()
    }

    pub fn ident(&self, table: &str) -> TableIdent {
        TableIdent::from_strs([self.namespace(), table]).unwrap()
    }
}

impl Drop for TestEnv {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// How many rows the table's current snapshot holds, read back through Iceberg's scan.
pub async fn row_count(catalog: &dyn iceberg::Catalog, ident: &TableIdent) -> usize {
    let table = catalog.load_table(ident).await.unwrap();
    scan(&table).await.iter().map(|b| b.num_rows()).sum()
}

/// All rows of the table's current snapshot, read back through Iceberg's scan.
pub async fn scan(table: &Table) -> Vec<RecordBatch> {
    table
        .scan()
        .select_all()
        .build()
        .expect("scan")
        .to_arrow()
        .await
        .expect("to_arrow")
        .try_collect()
        .await
        .expect("read batches")
}

/// Data file paths of the current snapshot.
pub async fn data_files(table: &Table) -> Vec<String> {
    data_files_at(table, None).await
}

/// Data file paths of a snapshot (the current one for `None`).
pub async fn data_files_at(table: &Table, snapshot: Option<i64>) -> Vec<String> {
    let mut scan = table.scan().select_all();
    if let Some(id) = snapshot {
        scan = scan.snapshot_id(id);
    }
    let tasks: Vec<_> = scan
        .build()
        .unwrap()
        .plan_files()
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    tasks.into_iter().map(|t| t.data_file_path).collect()
}

/// Opens a Parquet data file of the warehouse for direct inspection.
pub async fn parquet_reader(
    env: &TestEnv,
    url: &str,
) -> parquet::arrow::async_reader::ParquetRecordBatchStreamBuilder<
    parquet::arrow::async_reader::ParquetObjectReader,
> {
    let stores = env.stores();
    let (store, path): (Arc<dyn ObjectStore>, _) = stores.for_url(url).unwrap();
    let size = store.head(&path).await.unwrap().size;
    let reader =
        parquet::arrow::async_reader::ParquetObjectReader::new(store, path).with_file_size(size);
    parquet::arrow::ParquetRecordBatchStreamBuilder::new(reader)
        .await
        .expect("parquet footer")
}

/// A spec for the test `sales` shape under `prefix`, partitioned by day(ts).
pub fn sales_spec(name: &str, prefix: &str, extra: &str) -> String {
    format!(
        r#"name = "{name}"
prefixes = ["{prefix}"]
{extra}
[[columns]]
name = "id"
type = "long"
required = true
[[columns]]
name = "name"
type = "string"
[[columns]]
name = "amount"
type = "decimal(10,2)"
[[columns]]
name = "ts"
type = "timestamptz"
[[columns]]
name = "qty"
type = "int"
[[columns]]
name = "flag"
type = "boolean"
[[partition]]
column = "ts"
transform = "day"
"#
    )
}

/// Stands in for the SQS transport: keeps what is sent (the consuming side is the real handler).
#[derive(Default)]
pub struct CapturedQueue(pub Mutex<Vec<CommitRequest>>);

#[async_trait::async_trait]
impl CommitQueue for CapturedQueue {
    async fn send(&self, requests: &[CommitRequest]) -> Result<(), floe::queue::QueueError> {
        self.0.lock().unwrap().extend_from_slice(requests);
        Ok(())
    }
}

/// Runs a pyiceberg script of `tests/py` on table `it.<table>` of `env`'s SQLite catalog
/// (`FLOE_TEST_PYICEBERG`: a Python with pyiceberg, set up by scripts/test.sh) and parses the
/// JSON it prints.
pub fn pyiceberg(env: &TestEnv, script: &str, table: &str, extra: &[String]) -> serde_json::Value {
    let python = std::env::var("FLOE_TEST_PYICEBERG").expect(
        "FLOE_TEST_PYICEBERG is not set: run the tests with `make test` (it installs pyiceberg)",
    );
    let script = format!("{}/py/{script}", env!("CARGO_MANIFEST_DIR"));
    // SQLAlchemy's absolute-path form: sqlite:////abs/path.
    let uri = format!("sqlite:///{}", env.dir.join("catalog.db").display());
    let out = std::process::Command::new(python)
        .arg(script)
        .arg(uri)
        .arg(
            env.vars
                .get("FLOE_CATALOG_NAME")
                .map_or("floe", String::as_str),
        )
        .arg(&env.vars["FLOE_WAREHOUSE"])
        .arg(format!("it.{table}"))
        .args(extra)
        .envs(env.vars.iter())
        .output()
        .expect("run pyiceberg");
    assert!(
        out.status.success(),
        "pyiceberg failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("pyiceberg output")
}

/// Runs `tests/py/duckdb_rows.py` (DuckDB 1.4.4 + its iceberg extension, in the pyiceberg venv)
/// on `table`'s current metadata file and parses the rows it prints.
pub fn duckdb_rows(env: &TestEnv, table: &Table) -> serde_json::Value {
    duckdb_rows_where(env, table, "true")
}

/// [`duckdb_rows`] of the rows matching a SQL condition (`where_sql`), which DuckDB also uses to
/// prune data files by their bounds.
pub fn duckdb_rows_where(env: &TestEnv, table: &Table, where_sql: &str) -> serde_json::Value {
    let python = std::env::var("FLOE_TEST_PYICEBERG").expect(
        "FLOE_TEST_PYICEBERG is not set: run the tests with `make test` (it installs DuckDB too)",
    );
    let script = format!("{}/py/duckdb_rows.py", env!("CARGO_MANIFEST_DIR"));
    let metadata = table.metadata_location().expect("metadata location");
    let out = std::process::Command::new(python)
        .arg(script)
        .arg(metadata)
        .arg(where_sql)
        .envs(env.vars.iter())
        .output()
        .expect("run duckdb");
    assert!(
        out.status.success(),
        "duckdb failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("duckdb output")
}

/// A record batch as the bytes of a Parquet file (arrow-rs's writer, default properties).
pub fn parquet_bytes(batch: &arrow_array::RecordBatch) -> Vec<u8> {
    let mut out = Vec::new();
    let mut w = parquet::arrow::ArrowWriter::try_new(&mut out, batch.schema(), None).unwrap();
    w.write(batch).unwrap();
    w.close().unwrap();
    out
}

/// Commits `requests` through the commit service's batch path (message ids are their indexes),
/// as the commit function would, with a one-hour request age limit.
pub async fn commit_requests(
    catalog: std::sync::Arc<dyn iceberg::Catalog>,
    requests: &[floe::queue::CommitRequest],
) -> floe::committer::CommitBatchReport {
    let messages = requests
        .iter()
        .enumerate()
        .map(|(i, r)| floe::committer::CommitMessage {
            message_id: i.to_string(),
            request: Ok(r.clone()),
            body: String::new(),
        })
        .collect();
    floe::committer::commit_messages(
        catalog,
        messages,
        &floe::committer::CommitSettings::new(10, 3_600_000),
    )
    .await
}

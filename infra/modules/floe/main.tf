# Floe on AWS: landing / warehouse / quarantine buckets, the four Lambda functions (ingest,
# validate, commit, compact) with one least-privilege role each, their triggers, queues + DLQs,
# schedules, the Glue database(s), log groups and alarms.

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  account   = data.aws_caller_identity.current.account_id
  region    = data.aws_region.current.name
  partition = data.aws_partition.current.partition

  buckets = {
    landing    = coalesce(var.bucket_names.landing, "${var.name}-landing-${local.account}")
    warehouse  = coalesce(var.bucket_names.warehouse, "${var.name}-warehouse-${local.account}")
    quarantine = coalesce(var.bucket_names.quarantine, "${var.name}-quarantine-${local.account}")
  }

  # Table specs live next to the tables; every function reads them at init.
  specs_prefix = "_floe/tables/"
  spec_files   = fileset(var.table_specs_dir, "*.toml")

  # Namespaces (Glue databases) the specs use: `namespace = "..."` or the default.
  namespaces = toset(concat([var.default_namespace], [
    for f in local.spec_files :
    try(regex("(?m)^namespace\\s*=\\s*\"([^\"]+)\"", file("${var.table_specs_dir}/${f}"))[0], var.default_namespace)
  ]))

  all_prefixes = distinct(flatten(values(var.table_prefixes)))

  function_names = ["ingest", "validate", "commit", "compact"]

  # Settings every function shares (names as in shared/src/config.rs).
  common_env = merge(
    {
      FLOE_CATALOG_TYPE = var.catalog.type
      FLOE_WAREHOUSE = (var.catalog.type == "s3tables" ? aws_s3tables_table_bucket.this[0].arn
        : var.catalog.type == "rest" && var.catalog.warehouse != "" ? var.catalog.warehouse
      : "s3://${local.buckets.warehouse}")
      FLOE_TABLE_SPECS       = "s3://${local.buckets.warehouse}/${local.specs_prefix}"
      FLOE_DEFAULT_NAMESPACE = var.default_namespace
      FLOE_QUARANTINE_URL    = "s3://${local.buckets.quarantine}/objects"
      FLOE_QUARANTINE_TABLE  = "${var.default_namespace}.quarantine"
      FLOE_LOG_FORMAT        = "json"
      FLOE_LOG_LEVEL         = var.log_level
      # Longest path an event or commit request can take: queue retention + 14-day DLQ + a day
      # to redrive. Snapshot expiry and orphan removal never go below it (idempotency keys and
      # queued data files outlive every redelivery); older events/requests are refused.
      FLOE_REDELIVERY_WINDOW_HOURS = tostring(ceil((var.queue_retention_seconds + 1209600) / 3600) + 24)
    },
    var.catalog.type == "glue" ? { FLOE_CATALOG_ID = local.account } : {},
    var.catalog.type == "rest" ? { FLOE_CATALOG_URI = var.catalog.rest_uri } : {},
    var.catalog.type == "rest" && var.catalog_credential != "" ? { FLOE_CATALOG_CREDENTIAL = var.catalog_credential } : {},
    var.catalog.type == "rest" && var.catalog_credential_secret_arn != "" ? { FLOE_CATALOG_CREDENTIAL_SECRET_ARN = var.catalog_credential_secret_arn } : {},
  )

  function_env = {
    ingest = merge(local.common_env, var.commit_mode == "queue" ? {
      FLOE_COMMIT_MODE      = "queue"
      FLOE_COMMIT_QUEUE_URL = aws_sqs_queue.commit.url
    } : { FLOE_COMMIT_MODE = "direct" })
    validate = merge(local.common_env, {
      FLOE_REPORTS_URL = "s3://${local.buckets.warehouse}/_floe/reports"
    })
    commit = merge(local.common_env, {
      # Requests that can never commit (too old, files gone, outside the table, poison) go here
      # at once instead of blocking their table's FIFO group for visibility timeout x receives.
      FLOE_COMMIT_DLQ_URL = aws_sqs_queue.commit_dlq.url
    })
    compact = merge(local.common_env, {
      FLOE_COMPACT_QUEUE_URL = aws_sqs_queue.compact.url
    })
  }

  tags = merge({ "app" = "floe", "floe:deployment" = var.name }, var.tags)
}

resource "aws_s3_object" "table_spec" {
  for_each     = local.spec_files
  bucket       = aws_s3_bucket.this["warehouse"].id
  key          = "${local.specs_prefix}${each.value}"
  source       = "${var.table_specs_dir}/${each.value}"
  etag         = filemd5("${var.table_specs_dir}/${each.value}")
  content_type = "application/toml"
  tags         = local.tags
}

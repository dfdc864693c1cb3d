variable "name" {
  description = "Prefix for every resource name (e.g. floe-prod)."
  type        = string
  default     = "floe"
}

variable "artifacts_dir" {
  description = "Where `make package` left the zips: <dir>/<function>/bootstrap.zip (cargo lambda's target/lambda)."
  type        = string
}

variable "table_specs_dir" {
  description = "Directory of the *.toml table specs (uploaded to the config prefix; the functions route by them)."
  type        = string
}

variable "table_prefixes" {
  description = "Landing key prefixes per table, generated from the table specs (`floe spec-prefixes`): the S3 trigger filters."
  type        = map(list(string))
}

variable "default_namespace" {
  description = "Namespace (Glue database) for specs that name none."
  type        = string
  default     = "floe"
}

variable "bucket_names" {
  description = "Bucket names; empty strings get <name>-<role>-<account id>."
  type = object({
    landing    = optional(string, "")
    warehouse  = optional(string, "")
    quarantine = optional(string, "")
  })
  default = {}
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key for buckets, queues and logs (SSE-KMS). Null: SSE-S3 / SQS-managed SSE."
  type        = string
  default     = null
}

variable "access_log_bucket" {
  description = "Bucket for S3 server access logs of the Floe buckets (null: no access logging)."
  type        = string
  default     = null
}

variable "landing_expiration_days" {
  description = "Landing objects are deleted this many days after upload (their rows are in the table by then)."
  type        = number
  default     = 30
}

variable "quarantine_expiration_days" {
  description = "Whole-object quarantine copies are deleted after this many days."
  type        = number
  default     = 90
}

variable "trigger" {
  description = "How S3 events reach ingest: `sqs` (S3 -> SQS -> ingest, batching + DLQ; default), `direct` (S3 -> ingest) or `eventbridge`."
  type        = string
  default     = "sqs"
  validation {
    condition     = contains(["sqs", "direct", "eventbridge"], var.trigger)
    error_message = "trigger must be sqs, direct or eventbridge."
  }
}

variable "commit_mode" {
  description = "`queue`: ingest hands data files to the commit function through an SQS FIFO queue (one committer per table); `direct`: ingest commits itself."
  type        = string
  default     = "queue"
  validation {
    condition     = contains(["queue", "direct"], var.commit_mode)
    error_message = "commit_mode must be queue or direct."
  }
}

variable "register_prefixes" {
  description = "Landing key prefixes whose Parquet objects tables register in place (`mode = \"register\"`, `register_prefixes` in the specs). Objects there become table data: the landing expiry rule leaves them (and any table prefix holding them) alone, and the commit function may read them to check a registered object is unchanged."
  type        = list(string)
  default     = []
  validation {
    condition     = alltrue([for p in var.register_prefixes : length(p) > 0])
    error_message = "register_prefixes must not hold an empty prefix (it would cover the whole landing bucket)."
  }
}

variable "catalog" {
  description = "Iceberg catalog: `glue` (default), `s3tables` (an S3 table bucket `table_bucket`, default <name>-tables, through the S3 Tables API) or `rest` (a REST catalog at rest_uri, e.g. Polaris, Lakekeeper, Nessie; its OAuth2 client credential goes in var.catalog_credential). REST servers choose table locations: Floe's roles may use the warehouse bucket, plus `table_locations` (s3:// prefixes) when the server puts tables elsewhere."
  type = object({
    type            = optional(string, "glue")
    rest_uri        = optional(string, "")
    warehouse       = optional(string, "")
    table_locations = optional(list(string), [])
    table_bucket    = optional(string, "")
  })
  default = {}
  validation {
    condition     = contains(["glue", "rest", "s3tables"], var.catalog.type)
    error_message = "catalog.type must be glue, rest or s3tables."
  }
}

variable "catalog_credential" {
  description = "REST catalog OAuth2 client credential `id:secret` (FLOE_CATALOG_CREDENTIAL). Sensitive: kept out of plan output; it is still stored in the state and the function configuration, so protect both (encrypted state backend, var.kms_key_arn for the function environment)."
  type        = string
  default     = ""
  sensitive   = true
}

variable "catalog_credential_secret_arn" {
  description = "REST catalog: a Secrets Manager secret whose string value is the OAuth2 client credential `id:secret` (FLOE_CATALOG_CREDENTIAL_SECRET_ARN), read by the functions at start-up; the credential then appears in no plan, state or function configuration. Use instead of catalog_credential."
  type        = string
  default     = ""
  validation {
    condition     = var.catalog_credential_secret_arn == "" || can(regex("^arn:[^:]+:secretsmanager:", var.catalog_credential_secret_arn))
    error_message = "catalog_credential_secret_arn must be a Secrets Manager secret ARN."
  }
}

variable "functions" {
  description = "Memory (MB), timeout (s), reserved concurrency (-1: unreserved, else at least 3: SQS pollers run at reserved - 1, minimum 2) and /tmp size (MB; sort compaction spills sorted runs there: size it to the largest file group, `max-file-group-size-bytes`) per function."
  type = map(object({
    memory_mb            = number
    timeout_s            = number
    reserved_concurrency = number
    tmp_mb               = optional(number, 512)
  }))
  default = {
    ingest   = { memory_mb = 1024, timeout_s = 300, reserved_concurrency = 50 }
    validate = { memory_mb = 1024, timeout_s = 300, reserved_concurrency = 5 }
    commit   = { memory_mb = 512, timeout_s = 120, reserved_concurrency = 10 }
    compact  = { memory_mb = 2048, timeout_s = 900, reserved_concurrency = 10, tmp_mb = 2048 }
  }
  validation {
    condition     = alltrue([for f in values(var.functions) : f.reserved_concurrency == -1 || f.reserved_concurrency >= 3])
    error_message = "reserved_concurrency must be -1 (unreserved) or at least 3 (SQS pollers need 2, plus one slot)."
  }
}

variable "log_level" {
  description = "FLOE_LOG_LEVEL for every function."
  type        = string
  default     = "info"
}

variable "log_retention_days" {
  description = "CloudWatch Logs retention."
  type        = number
  default     = 365
}

variable "maintenance_schedule" {
  description = "EventBridge Scheduler expression for compaction + expiry + orphan removal."
  type        = string
  default     = "cron(0 3 * * ? *)"
}

variable "maintenance_request" {
  description = <<-EOT
    The compact function's request (see events/scheduled-compaction.json). The default runs all
    three actions on every table. Its orphan age guard (15 days) exceeds the longest a queued commit
    can still arrive (commit queue retention 4 days + DLQ redrive within its 14 days' retention):
    data files written by ingest but not yet committed must never look like orphans.
  EOT
  type        = any
  default = {
    actions = ["rewrite_data_files", "expire_snapshots", "remove_orphan_files"]
    orphans = { "older-than-ms" = 1296000000 }
  }
}

variable "checks_schedule" {
  description = "EventBridge Scheduler expression for the scheduled table checks (validate)."
  type        = string
  default     = "rate(1 hour)"
}

variable "alarm_topic_arn" {
  description = "SNS topic for alarms; null creates one."
  type        = string
  default     = null
}

variable "queue_retention_seconds" {
  description = "Ingest/commit queue retention. Floe derives its redelivery window from it (+ the 14-day DLQ + 1 day): snapshot expiry and orphan removal never use a shorter age."
  type        = number
  default     = 345600 # 4 days
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}

variable "queue_age_alarm_seconds" {
  description = "Alarm when the oldest message of the ingest or commit queue is older than this."
  type        = number
  default     = 3600
}

variable "region" {
  description = "AWS region to deploy into."
  type        = string
  default     = "us-east-1"
}

variable "name" {
  description = "Resource name prefix."
  type        = string
  default     = "floe"
}

variable "table_prefixes" {
  description = "Generated from tables/*.toml into tables.auto.tfvars.json (`make infra-prefixes`)."
  type        = map(list(string))
}

variable "kms_key_arn" {
  description = "Optional customer-managed KMS key (SSE-KMS everywhere); null = SSE-S3."
  type        = string
  default     = null
}

variable "trigger" {
  description = "sqs | direct | eventbridge"
  type        = string
  default     = "sqs"
}

variable "register_prefixes" {
  description = "Landing prefixes whose Parquet objects are registered in place (see the module)."
  type        = list(string)
  default     = []
}

variable "commit_mode" {
  description = "queue | direct"
  type        = string
  default     = "queue"
}

variable "alarm_email" {
  description = "Optional e-mail address subscribed to the alarm topic."
  type        = string
  default     = null
}

variable "artifacts_dir" {
  description = "Where the function zips are (<dir>/<function>/bootstrap.zip); null = target/lambda from `make package`."
  type        = string
  default     = null
}

variable "catalog" {
  description = "The Iceberg catalog (see the module's `catalog` variable): glue (default) or rest."
  type        = any
  default     = { type = "glue" }
}

variable "catalog_credential" {
  description = "REST catalog OAuth2 client credential `id:secret`."
  type        = string
  default     = ""
  sensitive   = true
}

variable "catalog_credential_secret_arn" {
  description = "REST catalog: Secrets Manager secret holding the `id:secret` credential (instead of catalog_credential)."
  type        = string
  default     = ""
}

# Example root configuration: Floe with the repository's table specs (tables/), the zips from
# `make package` (target/lambda/<function>/bootstrap.zip), a Glue catalog, S3 -> SQS -> ingest.

module "floe" {
  source = "../modules/floe"

  name              = var.name
  artifacts_dir     = coalesce(var.artifacts_dir, "${path.root}/../../target/lambda")
  table_specs_dir   = "${path.root}/../../tables"
  table_prefixes    = var.table_prefixes
  default_namespace = "demo"
  kms_key_arn       = var.kms_key_arn
  trigger           = var.trigger
  commit_mode       = var.commit_mode
  register_prefixes = var.register_prefixes
  catalog           = var.catalog
  # REST catalog OAuth2 credential (sensitive); empty for Glue.
  catalog_credential = var.catalog_credential
  # Or the same credential from Secrets Manager (then nothing secret is in the plan or state).
  catalog_credential_secret_arn = var.catalog_credential_secret_arn
}

resource "aws_sns_topic_subscription" "alarm_email" {
  count     = var.alarm_email == null ? 0 : 1
  topic_arn = module.floe.alarm_topic_arn
  protocol  = "email"
  endpoint  = var.alarm_email
}

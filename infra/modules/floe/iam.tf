# One role per function, least privilege: only the actions each function's code performs, on the
# buckets/prefixes, queues and Glue databases/tables it touches. No `*` actions. (X-Ray's two
# write actions have no resource-level permissions, so they alone name resource "*".)

locals {
  arn_landing    = aws_s3_bucket.this["landing"].arn
  arn_warehouse  = aws_s3_bucket.this["warehouse"].arn
  arn_quarantine = aws_s3_bucket.this["quarantine"].arn

  glue_catalog = "arn:${local.partition}:glue:${local.region}:${local.account}:catalog"
  glue_dbs     = [for ns in local.namespaces : "arn:${local.partition}:glue:${local.region}:${local.account}:database/${ns}"]
  glue_tables  = [for ns in local.namespaces : "arn:${local.partition}:glue:${local.region}:${local.account}:table/${ns}/*"]

  read_specs = {
    sid       = "ReadTableSpecs"
    actions   = ["s3:GetObject"]
    resources = ["${local.arn_warehouse}/${local.specs_prefix}*"]
  }
  # Where table files live. Glue: the database location Terraform sets, <warehouse>/<ns>.db/.
  # REST: wherever the REST server puts tables; by default anywhere in the warehouse bucket, or
  # exactly var.catalog.table_locations (s3:// prefixes) when the server uses other locations.
  # S3 Tables: table files live in buckets S3 Tables owns, reached with s3tables:*TableData below;
  # the warehouse bucket then holds only Floe's own files (specs, reports).
  table_prefixes = local.glue ? [for ns in local.namespaces : "${ns}.db/"] : local.s3tables ? ["_floe/"] : [""]
  table_objects = concat(
    [for p in local.table_prefixes : "${local.arn_warehouse}/${p}*"],
    [for u in var.catalog.table_locations : "arn:${local.partition}:s3:::${trimprefix(u, "s3://")}*"],
  )
  # Listing (orphan removal, spec loading) is limited to the same prefixes and the specs.
  list_warehouse = {
    sid       = "ListWarehouse"
    actions   = ["s3:ListBucket"]
    resources = [local.arn_warehouse]
    conditions = [{
      test     = "StringLike"
      variable = "s3:prefix"
      values   = concat([local.specs_prefix, "${local.specs_prefix}*"], [for p in local.table_prefixes : "${p}*"])
    }]
  }
  list_table_locations = {
    sid       = "ListOtherTableLocations"
    actions   = ["s3:ListBucket"]
    resources = distinct([for u in var.catalog.table_locations : "arn:${local.partition}:s3:::${split("/", trimprefix(u, "s3://"))[0]}"])
  }
  # Iceberg table files: data/ and metadata/ under each table location.
  write_tables = {
    sid       = "WriteTableFiles"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"]
    resources = local.table_objects
  }
  read_tables = {
    sid       = "ReadTableFiles"
    actions   = ["s3:GetObject"]
    resources = local.table_objects
  }
  delete_table_files = {
    sid       = "DeleteUnreferencedTableFiles"
    actions   = ["s3:DeleteObject"]
    resources = local.table_objects
  }
  glue_read = {
    sid       = "GlueReadCatalog"
    actions   = ["glue:GetDatabase", "glue:GetDatabases", "glue:GetTable", "glue:GetTables"]
    resources = concat([local.glue_catalog], local.glue_dbs, local.glue_tables)
  }
  glue_commit = {
    sid       = "GlueCommitSnapshots"
    actions   = ["glue:GetTable", "glue:UpdateTable"]
    resources = concat([local.glue_catalog], local.glue_dbs, local.glue_tables)
  }
  # Tables are created from the specs on first use; databases come from Terraform (catalog.tf).
  glue_create = {
    sid       = "GlueCreateTablesFromSpecs"
    actions   = ["glue:CreateTable"]
    resources = concat([local.glue_catalog], local.glue_dbs, local.glue_tables)
  }
  xray = {
    sid       = "XRayTraces"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"]
  }
  dlq = {
    sid       = "AsyncDeadLetters"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.lambda_dlq.arn]
  }

  glue     = var.catalog.type == "glue"
  s3tables = var.catalog.type == "s3tables"

  # S3 Tables: the bucket, its namespaces and tables, and the tables' data (GetTableData /
  # PutTableData authorise the S3 calls on a table's storage location).
  s3tables_bucket = local.s3tables ? aws_s3tables_table_bucket.this[0].arn : ""
  s3tables_read = {
    sid       = "S3TablesRead"
    actions   = ["s3tables:GetTableBucket", "s3tables:GetNamespace", "s3tables:ListNamespaces", "s3tables:GetTable", "s3tables:ListTables", "s3tables:GetTableMetadataLocation", "s3tables:GetTableData"]
    resources = [local.s3tables_bucket, "${local.s3tables_bucket}/table/*"]
  }
  s3tables_write = {
    sid       = "S3TablesCommit"
    actions   = ["s3tables:PutTableData", "s3tables:UpdateTableMetadataLocation"]
    resources = ["${local.s3tables_bucket}/table/*"]
  }
  s3tables_create = {
    sid       = "S3TablesCreateTablesFromSpecs"
    actions   = ["s3tables:CreateTable"]
    resources = [local.s3tables_bucket, "${local.s3tables_bucket}/table/*"]
  }
  # The REST credential's secret, when it comes from Secrets Manager (every function opens the
  # catalog at start-up).
  read_credential = var.catalog.type == "rest" && var.catalog_credential_secret_arn != "" ? [{
    sid       = "ReadCatalogCredential"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [var.catalog_credential_secret_arn]
  }] : []
  # A statement per extra table location bucket (REST catalogs only).
  list_extra = length(var.catalog.table_locations) > 0 ? [local.list_table_locations] : []

  function_statements = {
    ingest = concat(
      [
        local.read_specs, local.list_warehouse, local.write_tables, local.xray, local.dlq,
        { sid = "ReadLandingObjects", actions = ["s3:GetObject", "s3:GetObjectVersion"], resources = [for p in local.all_prefixes : "${local.arn_landing}/${p}*"] },
        { sid = "QuarantineObjects", actions = ["s3:PutObject", "s3:AbortMultipartUpload"], resources = ["${local.arn_quarantine}/objects/*"] },
      ],
      local.list_extra,
      local.read_credential,
      local.glue ? [local.glue_read, local.glue_commit, local.glue_create] : [],
      local.s3tables ? [local.s3tables_read, local.s3tables_write, local.s3tables_create] : [],
      var.trigger == "sqs" ? [{ sid = "ConsumeS3Events", actions = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"], resources = [aws_sqs_queue.ingest.arn] }] : [],
      var.commit_mode == "queue" ? [{ sid = "SendCommitRequests", actions = ["sqs:SendMessage"], resources = [aws_sqs_queue.commit.arn] }] : [],
    )
    validate = concat(
      [
        local.read_specs, local.list_warehouse, local.read_tables, local.xray, local.dlq,
        { sid = "ReadLandingObjects", actions = ["s3:GetObject", "s3:GetObjectVersion"], resources = [for p in local.all_prefixes : "${local.arn_landing}/${p}*"] },
        { sid = "WriteCheckReports", actions = ["s3:PutObject"], resources = ["${local.arn_warehouse}/_floe/reports/*"] },
      ],
      local.list_extra,
      local.read_credential,
      local.glue ? [local.glue_read] : [],
      local.s3tables ? [local.s3tables_read] : [],
    )
    commit = concat(
      [
        local.read_specs, local.list_warehouse, local.write_tables, local.xray, local.dlq,
        { sid = "ConsumeCommitRequests", actions = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"], resources = [aws_sqs_queue.commit.arn] },
        { sid = "DeadLetterRefusedRequests", actions = ["sqs:SendMessage"], resources = [aws_sqs_queue.commit_dlq.arn] },
      ],
      length(var.register_prefixes) > 0 ? [{ sid = "CheckRegisteredObjects", actions = ["s3:GetObject"], resources = [for p in var.register_prefixes : "${local.arn_landing}/${p}*"] }] : [],
      local.list_extra,
      local.read_credential,
      local.glue ? [local.glue_read, local.glue_commit] : [],
      local.s3tables ? [local.s3tables_read, local.s3tables_write] : [],
    )
    compact = concat(
      [
        local.read_specs, local.list_warehouse, local.write_tables, local.delete_table_files, local.xray, local.dlq,
        { sid = "FanOutFileGroups", actions = ["sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"], resources = [aws_sqs_queue.compact.arn] },
      ],
      # A scheduled quarantine replay reads quarantine copies and writes its replay objects there.
      contains(try(var.maintenance_request.actions, []), "replay_quarantine") ? [{ sid = "ReplayQuarantine", actions = ["s3:GetObject", "s3:PutObject"], resources = ["${local.arn_quarantine}/objects/*"] }] : [],
      local.list_extra,
      local.read_credential,
      local.glue ? [local.glue_read, local.glue_commit] : [],
      local.s3tables ? [local.s3tables_read, local.s3tables_write] : [],
    )
  }
}

data "aws_iam_policy_document" "assume_lambda" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
  }
}

resource "aws_iam_role" "fn" {
  for_each           = toset(local.function_names)
  name               = "${var.name}-${each.key}"
  description        = "Floe ${each.key} function"
  assume_role_policy = data.aws_iam_policy_document.assume_lambda.json
  tags               = local.tags
}

data "aws_iam_policy_document" "fn" {
  for_each = toset(local.function_names)

  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.fn[each.key].arn}:*"]
  }

  dynamic "statement" {
    for_each = local.function_statements[each.key]
    content {
      sid       = statement.value.sid
      actions   = statement.value.actions
      resources = statement.value.resources
      dynamic "condition" {
        for_each = try(statement.value.conditions, [])
        content {
          test     = condition.value.test
          variable = condition.value.variable
          values   = condition.value.values
        }
      }
    }
  }

  dynamic "statement" {
    for_each = var.kms_key_arn == null ? [] : [var.kms_key_arn]
    content {
      sid       = "UseDataKey"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = [statement.value]
    }
  }
}

resource "aws_iam_role_policy" "fn" {
  for_each = toset(local.function_names)
  name     = "floe-${each.key}"
  role     = aws_iam_role.fn[each.key].id
  policy   = data.aws_iam_policy_document.fn[each.key].json
}

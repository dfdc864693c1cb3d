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
  list_warehouse = {
    sid       = "ListWarehouse"
    actions   = ["s3:ListBucket"]
    resources = [local.arn_warehouse]
  }
  # Iceberg table files: data/ and metadata/ under each table location (Glue: <ns>.db/<table>/).
  write_tables = {
    sid       = "WriteTableFiles"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"]
    resources = [for ns in local.namespaces : "${local.arn_warehouse}/${ns}.db/*"]
  }
  read_tables = {
    sid       = "ReadTableFiles"
    actions   = ["s3:GetObject"]
    resources = [for ns in local.namespaces : "${local.arn_warehouse}/${ns}.db/*"]
  }
  delete_table_files = {
    sid       = "DeleteUnreferencedTableFiles"
    actions   = ["s3:DeleteObject"]
    resources = [for ns in local.namespaces : "${local.arn_warehouse}/${ns}.db/*"]
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
  glue_create = {
    sid       = "GlueCreateTablesFromSpecs"
    actions   = ["glue:CreateDatabase", "glue:CreateTable"]
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

  glue = var.catalog.type == "glue"

  function_statements = {
    ingest = concat(
      [
        local.read_specs, local.list_warehouse, local.write_tables, local.xray, local.dlq,
        { sid = "ReadLandingObjects", actions = ["s3:GetObject", "s3:GetObjectVersion"], resources = [for p in local.all_prefixes : "${local.arn_landing}/${p}*"] },
        { sid = "QuarantineObjects", actions = ["s3:PutObject", "s3:AbortMultipartUpload"], resources = ["${local.arn_quarantine}/objects/*"] },
      ],
      local.glue ? [local.glue_read, local.glue_commit, local.glue_create] : [],
      var.trigger == "sqs" ? [{ sid = "ConsumeS3Events", actions = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"], resources = [aws_sqs_queue.ingest.arn] }] : [],
      var.commit_mode == "queue" ? [{ sid = "SendCommitRequests", actions = ["sqs:SendMessage"], resources = [aws_sqs_queue.commit.arn] }] : [],
    )
    validate = concat(
      [
        local.read_specs, local.list_warehouse, local.read_tables, local.xray, local.dlq,
        { sid = "ReadLandingObjects", actions = ["s3:GetObject", "s3:GetObjectVersion"], resources = [for p in local.all_prefixes : "${local.arn_landing}/${p}*"] },
        { sid = "WriteCheckReports", actions = ["s3:PutObject"], resources = ["${local.arn_warehouse}/_floe/reports/*"] },
      ],
      local.glue ? [local.glue_read] : [],
    )
    commit = concat(
      [
        local.read_specs, local.list_warehouse, local.write_tables, local.xray, local.dlq,
        { sid = "ConsumeCommitRequests", actions = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"], resources = [aws_sqs_queue.commit.arn] },
        { sid = "DeadLetterRefusedRequests", actions = ["sqs:SendMessage"], resources = [aws_sqs_queue.commit_dlq.arn] },
      ],
      local.glue ? [local.glue_read, local.glue_commit] : [],
    )
    compact = concat(
      [
        local.read_specs, local.list_warehouse, local.write_tables, local.delete_table_files, local.xray, local.dlq,
        { sid = "FanOutFileGroups", actions = ["sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"], resources = [aws_sqs_queue.compact.arn] },
      ],
      local.glue ? [local.glue_read, local.glue_commit] : [],
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

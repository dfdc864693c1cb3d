# Queues, each with a DLQ (redrive after maxReceiveCount) and SSE (KMS key or SQS-managed):
# - ingest: S3 events (trigger = "sqs"), standard queue;
# - commit: FIFO, MessageGroupId = table, so one committer per table at a time;
# - compact: fanned-out compaction file groups;
# - lambda_dlq: failed asynchronous invocations (direct S3 / EventBridge triggers, schedules).

locals {
  # SQS-managed SSE, or the customer key. With a key, `sqs_managed_sse_enabled` must stay unset:
  # the provider refuses it next to `kms_master_key_id` (even as false).
  sse = var.kms_key_arn == null ? { sqs_managed_sse_enabled = true, kms_master_key_id = null } : { sqs_managed_sse_enabled = null, kms_master_key_id = var.kms_key_arn }
}

resource "aws_sqs_queue" "ingest_dlq" {
  name                      = "${var.name}-ingest-dlq"
  message_retention_seconds = 1209600
  sqs_managed_sse_enabled   = local.sse.sqs_managed_sse_enabled
  kms_master_key_id         = local.sse.kms_master_key_id
  tags                      = local.tags
}

resource "aws_sqs_queue" "ingest" {
  name                       = "${var.name}-ingest"
  visibility_timeout_seconds = var.functions["ingest"].timeout_s * 6
  message_retention_seconds  = var.queue_retention_seconds
  sqs_managed_sse_enabled    = local.sse.sqs_managed_sse_enabled
  kms_master_key_id          = local.sse.kms_master_key_id
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.ingest_dlq.arn
    maxReceiveCount     = 5
  })
  tags = local.tags
}

data "aws_iam_policy_document" "ingest_queue" {
  statement {
    sid       = "S3SendsObjectCreated"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.ingest.arn]
    principals {
      type        = "Service"
      identifiers = ["s3.amazonaws.com"]
    }
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_s3_bucket.this["landing"].arn]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
  }
}

resource "aws_sqs_queue_policy" "ingest" {
  queue_url = aws_sqs_queue.ingest.id
  policy    = data.aws_iam_policy_document.ingest_queue.json
}

resource "aws_sqs_queue" "commit_dlq" {
  name                        = "${var.name}-commit-dlq.fifo"
  fifo_queue                  = true
  message_retention_seconds   = 1209600
  sqs_managed_sse_enabled     = local.sse.sqs_managed_sse_enabled
  kms_master_key_id           = local.sse.kms_master_key_id
  content_based_deduplication = false
  tags                        = local.tags
}

resource "aws_sqs_queue" "commit" {
  name                        = "${var.name}-commit.fifo"
  fifo_queue                  = true
  deduplication_scope         = "messageGroup"
  fifo_throughput_limit       = "perMessageGroupId"
  visibility_timeout_seconds  = var.functions["commit"].timeout_s * 6
  message_retention_seconds   = var.queue_retention_seconds
  sqs_managed_sse_enabled     = local.sse.sqs_managed_sse_enabled
  kms_master_key_id           = local.sse.kms_master_key_id
  content_based_deduplication = false
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.commit_dlq.arn
    maxReceiveCount     = 10
  })
  tags = local.tags
}

resource "aws_sqs_queue" "compact_dlq" {
  name                      = "${var.name}-compact-dlq"
  message_retention_seconds = 1209600
  sqs_managed_sse_enabled   = local.sse.sqs_managed_sse_enabled
  kms_master_key_id         = local.sse.kms_master_key_id
  tags                      = local.tags
}

resource "aws_sqs_queue" "compact" {
  name                       = "${var.name}-compact"
  visibility_timeout_seconds = var.functions["compact"].timeout_s * 6
  message_retention_seconds  = var.queue_retention_seconds
  sqs_managed_sse_enabled    = local.sse.sqs_managed_sse_enabled
  kms_master_key_id          = local.sse.kms_master_key_id
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.compact_dlq.arn
    maxReceiveCount     = 3
  })
  tags = local.tags
}

resource "aws_sqs_queue" "lambda_dlq" {
  name                      = "${var.name}-lambda-dlq"
  message_retention_seconds = 1209600
  sqs_managed_sse_enabled   = local.sse.sqs_managed_sse_enabled
  kms_master_key_id         = local.sse.kms_master_key_id
  tags                      = local.tags
}

locals {
  dlqs = {
    ingest  = aws_sqs_queue.ingest_dlq
    commit  = aws_sqs_queue.commit_dlq
    compact = aws_sqs_queue.compact_dlq
    lambda  = aws_sqs_queue.lambda_dlq
  }
}

# Only the functions that produce them may send to the commit queue (ingest), its DLQ (commit,
# for refused requests) and the compaction queue (compact): a commit request names data files
# the commit function adds to a table, so no other principal may inject one.
locals {
  queue_senders = {
    commit     = { queue = aws_sqs_queue.commit, sender = "ingest" }
    commit_dlq = { queue = aws_sqs_queue.commit_dlq, sender = "commit" }
    compact    = { queue = aws_sqs_queue.compact, sender = "compact" }
  }
}

data "aws_iam_policy_document" "queue_senders" {
  for_each = local.queue_senders
  statement {
    sid       = "OnlyFloe${title(each.value.sender)}Sends"
    effect    = "Deny"
    actions   = ["sqs:SendMessage"]
    resources = [each.value.queue.arn]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "ArnNotEquals"
      variable = "aws:PrincipalArn"
      values   = [aws_iam_role.fn[each.value.sender].arn]
    }
  }
}

resource "aws_sqs_queue_policy" "senders" {
  for_each  = local.queue_senders
  queue_url = each.value.queue.id
  policy    = data.aws_iam_policy_document.queue_senders[each.key].json
}

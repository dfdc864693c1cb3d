# EventBridge Scheduler: table maintenance (compact) and scheduled table checks (validate).

resource "aws_scheduler_schedule" "maintenance" {
  name                = "${var.name}-maintenance"
  description         = "Floe: compaction, snapshot expiry, orphan removal"
  schedule_expression = var.maintenance_schedule
  kms_key_arn         = var.kms_key_arn
  #checkov:skip=CKV_AWS_297:Uses var.kms_key_arn when set; without it the payload (table names and options, no data) is encrypted with an AWS-owned key.
  flexible_time_window {
    mode                      = "FLEXIBLE"
    maximum_window_in_minutes = 30
  }
  target {
    arn      = aws_lambda_function.fn["compact"].arn
    role_arn = aws_iam_role.scheduler.arn
    input    = jsonencode(var.maintenance_request)
    retry_policy {
      maximum_retry_attempts = 2
    }
    dead_letter_config {
      arn = aws_sqs_queue.lambda_dlq.arn
    }
  }
}

resource "aws_scheduler_schedule" "checks" {
  name                = "${var.name}-table-checks"
  description         = "Floe: the [[checks]] of the table specs"
  schedule_expression = var.checks_schedule
  kms_key_arn         = var.kms_key_arn
  #checkov:skip=CKV_AWS_297:Uses var.kms_key_arn when set; without it the payload (a list of table names) is encrypted with an AWS-owned key.
  flexible_time_window {
    mode = "OFF"
  }
  target {
    arn      = aws_lambda_function.fn["validate"].arn
    role_arn = aws_iam_role.scheduler.arn
    input    = jsonencode({ checks = { tables = [] } })
    retry_policy {
      maximum_retry_attempts = 2
    }
    dead_letter_config {
      arn = aws_sqs_queue.lambda_dlq.arn
    }
  }
}

data "aws_iam_policy_document" "scheduler_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["scheduler.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
  }
}

resource "aws_iam_role" "scheduler" {
  name               = "${var.name}-scheduler"
  assume_role_policy = data.aws_iam_policy_document.scheduler_assume.json
  tags               = local.tags
}

data "aws_iam_policy_document" "scheduler" {
  statement {
    sid       = "InvokeScheduledFunctions"
    actions   = ["lambda:InvokeFunction"]
    resources = [aws_lambda_function.fn["compact"].arn, aws_lambda_function.fn["validate"].arn]
  }
  statement {
    sid       = "DeadLetters"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.lambda_dlq.arn]
  }
  dynamic "statement" {
    for_each = var.kms_key_arn == null ? [] : [var.kms_key_arn]
    content {
      sid       = "EncryptDeadLetters"
      actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
      resources = [statement.value]
    }
  }
}

resource "aws_iam_role_policy" "scheduler" {
  name   = "invoke"
  role   = aws_iam_role.scheduler.id
  policy = data.aws_iam_policy_document.scheduler.json
}

# Landing bucket → ingest, filtered by the key prefixes of the table specs (var.table_prefixes,
# generated from tables/*.toml: `floe spec-prefixes`), one of three ways (var.trigger).

resource "aws_s3_bucket_notification" "landing" {
  count       = var.trigger == "eventbridge" ? 0 : 1
  bucket      = aws_s3_bucket.this["landing"].id
  eventbridge = false

  dynamic "queue" {
    for_each = var.trigger == "sqs" ? local.all_prefixes : []
    content {
      queue_arn     = aws_sqs_queue.ingest.arn
      events        = ["s3:ObjectCreated:*"]
      filter_prefix = queue.value
    }
  }

  dynamic "lambda_function" {
    for_each = var.trigger == "direct" ? local.all_prefixes : []
    content {
      lambda_function_arn = aws_lambda_function.fn["ingest"].arn
      events              = ["s3:ObjectCreated:*"]
      filter_prefix       = lambda_function.value
    }
  }

  depends_on = [aws_sqs_queue_policy.ingest, aws_lambda_permission.s3_ingest]
}

resource "aws_lambda_permission" "s3_ingest" {
  count          = var.trigger == "direct" ? 1 : 0
  statement_id   = "AllowLandingBucket"
  action         = "lambda:InvokeFunction"
  function_name  = aws_lambda_function.fn["ingest"].function_name
  principal      = "s3.amazonaws.com"
  source_arn     = aws_s3_bucket.this["landing"].arn
  source_account = local.account
}

# EventBridge option: the bucket sends every event to EventBridge; a rule keeps Object Created
# under the spec prefixes.
resource "aws_s3_bucket_notification" "landing_eventbridge" {
  count       = var.trigger == "eventbridge" ? 1 : 0
  bucket      = aws_s3_bucket.this["landing"].id
  eventbridge = true
}

resource "aws_cloudwatch_event_rule" "object_created" {
  count       = var.trigger == "eventbridge" ? 1 : 0
  name        = "${var.name}-object-created"
  description = "Floe: objects created under a table prefix of the landing bucket"
  event_pattern = jsonencode({
    source        = ["aws.s3"]
    "detail-type" = ["Object Created"]
    detail = {
      bucket = { name = [aws_s3_bucket.this["landing"].id] }
      object = { key = [for p in local.all_prefixes : { prefix = p }] }
    }
  })
  tags = local.tags
}

resource "aws_cloudwatch_event_target" "object_created" {
  count = var.trigger == "eventbridge" ? 1 : 0
  rule  = aws_cloudwatch_event_rule.object_created[0].name
  arn   = aws_lambda_function.fn["ingest"].arn
  dead_letter_config {
    arn = aws_sqs_queue.lambda_dlq.arn
  }
  retry_policy {
    maximum_retry_attempts       = 10
    maximum_event_age_in_seconds = 86400
  }
}

resource "aws_lambda_permission" "eventbridge_ingest" {
  count         = var.trigger == "eventbridge" ? 1 : 0
  statement_id  = "AllowObjectCreatedRule"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.fn["ingest"].function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.object_created[0].arn
}

data "aws_iam_policy_document" "lambda_dlq" {
  count = var.trigger == "eventbridge" ? 1 : 0
  statement {
    sid       = "EventBridgeDeadLetters"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.lambda_dlq.arn]
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_cloudwatch_event_rule.object_created[0].arn]
    }
  }
}

resource "aws_sqs_queue_policy" "lambda_dlq" {
  count     = var.trigger == "eventbridge" ? 1 : 0
  queue_url = aws_sqs_queue.lambda_dlq.id
  policy    = data.aws_iam_policy_document.lambda_dlq[0].json
}

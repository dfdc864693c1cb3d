# Alarms: a DLQ that is not empty, function errors and throttles, failed table checks and failed
# maintenance actions (EMF metrics in namespace Floe).

# CloudWatch alarms cannot publish to a topic encrypted with the AWS-managed key (alias/aws/sns):
# its key policy cannot be changed to let cloudwatch.amazonaws.com use it. The topic is encrypted
# with var.kms_key_arn when given (its key policy must allow cloudwatch.amazonaws.com
# kms:Decrypt + kms:GenerateDataKey*), else not at all: it carries alarm names, no data.
resource "aws_sns_topic" "alarms" {
  count             = var.alarm_topic_arn == null ? 1 : 0
  name              = "${var.name}-alarms"
  kms_master_key_id = var.kms_key_arn
  tags              = local.tags
  #checkov:skip=CKV_AWS_26:Encrypted with var.kms_key_arn when set. Without a customer key it stays unencrypted on purpose: CloudWatch alarms cannot publish to a topic under the AWS-managed SNS key, and the messages hold alarm names only.
}

locals {
  alarm_topic = var.alarm_topic_arn == null ? aws_sns_topic.alarms[0].arn : var.alarm_topic_arn
}

resource "aws_cloudwatch_metric_alarm" "dlq_depth" {
  for_each            = local.dlqs
  alarm_name          = "${var.name}-${each.key}-dlq-not-empty"
  alarm_description   = "Messages in ${each.value.name}: inspect, fix, redrive."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = each.value.name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [local.alarm_topic]
  tags                = local.tags
}

resource "aws_cloudwatch_metric_alarm" "errors" {
  for_each            = toset(local.function_names)
  alarm_name          = "${var.name}-${each.key}-errors"
  alarm_description   = "Floe ${each.key} returned errors."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = aws_lambda_function.fn[each.key].function_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [local.alarm_topic]
  tags                = local.tags
}

resource "aws_cloudwatch_metric_alarm" "throttles" {
  for_each            = toset(local.function_names)
  alarm_name          = "${var.name}-${each.key}-throttles"
  alarm_description   = "Floe ${each.key} is throttled (reserved concurrency reached)."
  namespace           = "AWS/Lambda"
  metric_name         = "Throttles"
  dimensions          = { FunctionName = aws_lambda_function.fn[each.key].function_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 3
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [local.alarm_topic]
  tags                = local.tags
}

# Floe's own failures (EMF metrics, namespace Floe, rolled up by Function): objects that failed
# (under direct/EventBridge triggers these return success to Lambda, so the Errors alarm never
# sees them), failed or refused commits, failed table checks and maintenance actions.
locals {
  floe_failure_alarms = {
    ingest-objects-failed   = { function = "ingest", metric = "ObjectsFailed", what = "An object failed to ingest (not quarantined, not committed): see the ingest logs." }
    commits-failed          = { function = "commit", metric = "CommitFailed", what = "A table commit failed (its requests are redelivered)." }
    commit-requests-refused = { function = "commit", metric = "CommitRequestsRefused", what = "A commit request was refused (poison, too old, files missing or outside the table): it is in the commit DLQ." }
    table-check-failed      = { function = "validate", metric = "CheckFailed", what = "A scheduled table check failed." }
    maintenance-failed      = { function = "compact", metric = "MaintenanceFailed", what = "A maintenance action failed." }
  }
}

resource "aws_cloudwatch_metric_alarm" "floe_failures" {
  for_each            = local.floe_failure_alarms
  alarm_name          = "${var.name}-${each.key}"
  alarm_description   = each.value.what
  namespace           = "Floe"
  metric_name         = each.value.metric
  dimensions          = { Function = each.value.function }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [local.alarm_topic]
  tags                = local.tags
}

# Work waiting too long: events not ingested, commit requests not committed.
resource "aws_cloudwatch_metric_alarm" "queue_age" {
  for_each = {
    ingest = aws_sqs_queue.ingest
    commit = aws_sqs_queue.commit
  }
  alarm_name          = "${var.name}-${each.key}-queue-age"
  alarm_description   = "The oldest message in ${each.value.name} is older than ${var.queue_age_alarm_seconds} s: its consumer is failing or throttled."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateAgeOfOldestMessage"
  dimensions          = { QueueName = each.value.name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 2
  threshold           = var.queue_age_alarm_seconds
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [local.alarm_topic]
  tags                = local.tags
}

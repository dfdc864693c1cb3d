# Alarms: a DLQ that is not empty, function errors and throttles, failed table checks and failed
# maintenance actions (EMF metrics in namespace Floe).

resource "aws_sns_topic" "alarms" {
  count             = var.alarm_topic_arn == null ? 1 : 0
  name              = "${var.name}-alarms"
  kms_master_key_id = coalesce(var.kms_key_arn, "alias/aws/sns")
  tags              = local.tags
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

# Metric math over the EMF metrics: any failed check / maintenance action on any table.
resource "aws_cloudwatch_metric_alarm" "emf_failures" {
  for_each = {
    table-check-failed = { function = "validate", metric = "CheckFailed", what = "A scheduled table check failed." }
    maintenance-failed = { function = "compact", metric = "MaintenanceFailed", what = "A maintenance action failed." }
  }
  alarm_name          = "${var.name}-${each.key}"
  alarm_description   = each.value.what
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [local.alarm_topic]
  metric_query {
    id          = "failed"
    expression  = "MAX(SEARCH('{Floe} MetricName=\"${each.value.metric}\" Function=\"${each.value.function}\"', 'Maximum', 3600))"
    label       = each.value.metric
    return_data = true
  }
  tags = local.tags
}

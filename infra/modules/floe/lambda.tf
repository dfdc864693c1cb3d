# The four functions: provided.al2023 on arm64, zips from
# `cargo lambda build --release --arm64 --output-format zip` (make package).

resource "aws_cloudwatch_log_group" "fn" {
  for_each          = toset(local.function_names)
  name              = "/aws/lambda/${var.name}-${each.key}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = local.tags
}

resource "aws_lambda_function" "fn" {
  for_each                       = toset(local.function_names)
  function_name                  = "${var.name}-${each.key}"
  description                    = "Floe ${each.key}"
  role                           = aws_iam_role.fn[each.key].arn
  runtime                        = "provided.al2023"
  architectures                  = ["arm64"]
  handler                        = "bootstrap"
  filename                       = "${var.artifacts_dir}/${each.key}/bootstrap.zip"
  source_code_hash               = filebase64sha256("${var.artifacts_dir}/${each.key}/bootstrap.zip")
  memory_size                    = var.functions[each.key].memory_mb
  timeout                        = var.functions[each.key].timeout_s
  reserved_concurrent_executions = var.functions[each.key].reserved_concurrency
  kms_key_arn                    = var.kms_key_arn

  environment {
    variables = local.function_env[each.key]
  }

  ephemeral_storage {
    size = var.functions[each.key].tmp_mb
  }

  # Asynchronous invocations (direct S3 / EventBridge triggers, schedules) that still fail after
  # Lambda's retries land here.
  dead_letter_config {
    target_arn = aws_sqs_queue.lambda_dlq.arn
  }

  tracing_config {
    mode = "Active"
  }

  logging_config {
    log_format = "JSON"
    log_group  = aws_cloudwatch_log_group.fn[each.key].name
  }

  tags       = local.tags
  depends_on = [aws_cloudwatch_log_group.fn, aws_iam_role_policy.fn]

  #checkov:skip=CKV_AWS_117:The functions reach only AWS APIs (S3, SQS, Glue, Logs); a VPC would add NAT gateways or five interface endpoints for no isolation gain. Attach one if a REST catalog lives in a VPC.
  #checkov:skip=CKV_AWS_272:Zips are built by `make package` in the deployer's pipeline; code signing needs an AWS Signer profile the deployment does not own. Add code_signing_config_arn where one exists.
}

# SQS pollers stay below the function's reserved concurrency (one slot left for schedules and
# direct invocations): above it, bursts are throttled, each throttle counts as a receive, and
# messages reach maxReceiveCount and the DLQ without ever running. 2 is SQS's minimum.
locals {
  poller_concurrency = {
    for k, f in var.functions : k => f.reserved_concurrency < 0 ? 1000 : max(2, f.reserved_concurrency - 1)
  }
}

# S3 events through SQS (trigger = "sqs"): batches, partial batch failures, the ingest DLQ.
resource "aws_lambda_event_source_mapping" "ingest" {
  count                              = var.trigger == "sqs" ? 1 : 0
  event_source_arn                   = aws_sqs_queue.ingest.arn
  function_name                      = aws_lambda_function.fn["ingest"].arn
  batch_size                         = 10
  maximum_batching_window_in_seconds = 5
  function_response_types            = ["ReportBatchItemFailures"]
  scaling_config {
    maximum_concurrency = local.poller_concurrency["ingest"]
  }
}

# Commit requests: FIFO per table; one batch per table per invocation.
resource "aws_lambda_event_source_mapping" "commit" {
  event_source_arn        = aws_sqs_queue.commit.arn
  function_name           = aws_lambda_function.fn["commit"].arn
  batch_size              = 10
  function_response_types = ["ReportBatchItemFailures"]
  scaling_config {
    maximum_concurrency = local.poller_concurrency["commit"]
  }
}

# Fanned-out compaction groups: one group per invocation (each may take minutes).
resource "aws_lambda_event_source_mapping" "compact" {
  event_source_arn        = aws_sqs_queue.compact.arn
  function_name           = aws_lambda_function.fn["compact"].arn
  batch_size              = 1
  function_response_types = ["ReportBatchItemFailures"]
  scaling_config {
    maximum_concurrency = local.poller_concurrency["compact"]
  }
}

output "buckets" {
  description = "Bucket names by role (landing, warehouse, quarantine)."
  value       = { for k, b in aws_s3_bucket.this : k => b.id }
}

output "functions" {
  description = "Function names by role."
  value       = { for k, f in aws_lambda_function.fn : k => f.function_name }
}

output "queues" {
  description = "Queue URLs (ingest events, commit FIFO, compaction groups) and their DLQs."
  value = {
    ingest      = aws_sqs_queue.ingest.url
    commit      = aws_sqs_queue.commit.url
    compact     = aws_sqs_queue.compact.url
    ingest_dlq  = aws_sqs_queue.ingest_dlq.url
    commit_dlq  = aws_sqs_queue.commit_dlq.url
    compact_dlq = aws_sqs_queue.compact_dlq.url
    lambda_dlq  = aws_sqs_queue.lambda_dlq.url
  }
}

output "glue_databases" {
  description = "Glue databases (one per namespace), empty for a REST catalog."
  value       = [for d in aws_glue_catalog_database.ns : d.name]
}

output "table_bucket_arn" {
  description = "The S3 Tables table bucket (catalog.type = \"s3tables\"), else null."
  value       = var.catalog.type == "s3tables" ? aws_s3tables_table_bucket.this[0].arn : null
}

output "alarm_topic_arn" {
  description = "SNS topic the alarms notify."
  value       = local.alarm_topic
}

output "landing_prefixes" {
  description = "Key prefixes that trigger ingest."
  value       = local.all_prefixes
}

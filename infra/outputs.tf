output "api_url" {
  description = "The web-form API's function URL."
  value       = aws_lambda_function_url.intake_api.function_url
}

output "buckets" {
  description = "The document buckets."
  value       = { for k, b in aws_s3_bucket.documents : k => b.id }
}

output "documents_table" {
  description = "The documents table."
  value       = aws_dynamodb_table.documents.name
}

output "counts_table" {
  description = "The counts table: daily counters and reports (`intake report --counts-table`)."
  value       = aws_dynamodb_table.counts.name
}

output "counter_shards" {
  description = "Counter items per day (`intake report --shards`)."
  value       = var.counter_shards
}

output "validate_queue_url" {
  description = "The queue the incoming bucket notifies."
  value       = aws_sqs_queue.validate.url
}

output "validate_dlq_url" {
  description = "Where messages go after repeated failures."
  value       = aws_sqs_queue.validate_dlq.url
}

output "functions" {
  description = "Each function's name, handler environment, memory and timeout: what the local stack runs the binaries with."
  value = {
    for k, f in aws_lambda_function.function : k => {
      name        = f.function_name
      memory_mb   = f.memory_size
      timeout_s   = f.timeout
      environment = f.environment[0].variables
      log_level   = var.log_level
    }
  }
}

output "validate_event_source" {
  description = "How Lambda feeds validate from its queue."
  value = {
    queue_arn  = aws_lambda_event_source_mapping.validate.event_source_arn
    batch_size = aws_lambda_event_source_mapping.validate.batch_size
  }
}

output "notify_event_source" {
  description = "How Lambda feeds notify from the table's stream."
  value = {
    stream_arn      = aws_dynamodb_table.documents.stream_arn
    batch_size      = var.notify_batch_size
    filter_patterns = [for f in local.notify_stream_filters : jsonencode(f)]
  }
}

output "receipts_event_source" {
  description = "How Lambda feeds the receipts function from the table's stream."
  value = {
    stream_arn      = aws_dynamodb_table.documents.stream_arn
    batch_size      = var.notify_batch_size
    filter_patterns = [for f in local.receipts_stream_filters : jsonencode(f)]
  }
}

output "notification_topic_arn" {
  description = "The departments' FIFO notification topic."
  value       = aws_sns_topic.notifications.arn
}

output "department_queues" {
  description = "Each department's notification queue URL, by department id."
  value       = { for id, queue in aws_sqs_queue.department : id => queue.url }
}

output "department_consumer_roles" {
  description = "Each department's consumer role ARN, by department id."
  value       = { for id, role in aws_iam_role.department_consumer : id => role.arn }
}

output "stations" {
  description = "The scanning stations (drop-box sites) by id, with their addresses."
  value       = local.stations
}

output "station_key_prefix" {
  description = "Where the stations' keys are kept in SSM Parameter Store (`intake station key --prefix`)."
  value       = local.station_key_prefix
}

output "reports_bucket" {
  description = "Where the daily reports are (reports/daily/YYYY/MM/DD/report.{json,csv,html})."
  value       = aws_s3_bucket.documents["reports"].id
}

output "management_topic_arn" {
  description = "The topic each report's summary goes to."
  value       = aws_sns_topic.management.arn
}

output "daily_report_schedule" {
  description = "When the daily report runs."
  value = {
    expression = aws_scheduler_schedule.function["daily-report"].schedule_expression
    timezone   = aws_scheduler_schedule.function["daily-report"].schedule_expression_timezone
    input      = aws_scheduler_schedule.function["daily-report"].target[0].input
  }
}

output "alarm_topic_arn" {
  description = "The topic every alarm publishes to: subscribe a pager or chat integration here."
  value       = aws_sns_topic.alarms.arn
}

output "receipt_key_id" {
  description = "The KMS key that signs receipts (`intake receipt-key csr --key-id`)."
  value       = aws_kms_key.receipts.arn
}

output "receipt_certificate_parameter" {
  description = "Where the receipt key's certificate chain is installed (`intake receipt-key install --parameter`)."
  value       = local.receipt_certificate_parameter
}

output "register_table" {
  description = "The incoming register: counters, entries (entry#<office>#RPW#<year>#<number>) and marks (document#<id>)."
  value       = aws_dynamodb_table.register.name
}

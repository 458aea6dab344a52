# Departments: the routing rules (config/routing.json, the same file the functions carry) name
# every department; each gets a FIFO queue subscribed to the notification topic with a filter on
# the `department` attribute, a dead-letter queue, alarms, and a consumer role that reads its own
# queue and its own documents only.

locals {
  routing     = jsondecode(file("${path.module}/../config/routing.json"))
  departments = { for d in local.routing.departments : d.id => d.name }
}

resource "aws_sns_topic" "notifications" {
  name                        = "${var.name}-notifications.fifo"
  fifo_topic                  = true
  content_based_deduplication = false
  kms_master_key_id           = "alias/aws/sns"
}

resource "aws_sqs_queue" "department_dlq" {
  for_each                  = local.departments
  name                      = "${var.name}-department-${each.key}-dlq.fifo"
  fifo_queue                = true
  message_retention_seconds = 1209600
  sqs_managed_sse_enabled   = true
}

resource "aws_sqs_queue" "department" {
  for_each                    = local.departments
  name                        = "${var.name}-department-${each.key}.fifo"
  fifo_queue                  = true
  content_based_deduplication = false
  # A department's clerk may be away for days; two weeks is SQS's longest.
  message_retention_seconds = 1209600
  sqs_managed_sse_enabled   = true
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.department_dlq[each.key].arn
    maxReceiveCount     = var.department_max_receive_count
  })
}

data "aws_iam_policy_document" "department_queue" {
  for_each = local.departments
  statement {
    sid       = "NotificationTopic"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.department[each.key].arn]
    principals {
      type        = "Service"
      identifiers = ["sns.amazonaws.com"]
    }
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_sns_topic.notifications.arn]
    }
  }
}

resource "aws_sqs_queue_policy" "department" {
  for_each  = local.departments
  queue_url = aws_sqs_queue.department[each.key].id
  policy    = data.aws_iam_policy_document.department_queue[each.key].json
}

resource "aws_sns_topic_subscription" "department" {
  for_each             = local.departments
  topic_arn            = aws_sns_topic.notifications.arn
  protocol             = "sqs"
  endpoint             = aws_sqs_queue.department[each.key].arn
  raw_message_delivery = true
  filter_policy_scope  = "MessageAttributes"
  filter_policy        = jsonencode({ department = [each.key] })
  depends_on           = [aws_sqs_queue_policy.department]
}

resource "aws_cloudwatch_metric_alarm" "department_backlog" {
  for_each            = local.departments
  alarm_name          = "${var.name}-department-${each.key}-backlog"
  alarm_description   = "${each.value}: more than ${var.department_backlog_alarm} notifications waiting."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.department[each.key].name }
  statistic           = "Maximum"
  period              = 3600
  evaluation_periods  = 1
  threshold           = var.department_backlog_alarm
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
}

resource "aws_cloudwatch_metric_alarm" "department_dlq" {
  for_each            = local.departments
  alarm_name          = "${var.name}-department-${each.key}-dlq-not-empty"
  alarm_description   = "${each.value}: notifications the department's consumer failed to handle."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.department_dlq[each.key].name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
}

# Records of the stream that keep failing end here (with the batch's position), after the retries.
resource "aws_sqs_queue" "notify_dlq" {
  name                      = "${var.name}-notify-dlq"
  message_retention_seconds = 1209600
  sqs_managed_sse_enabled   = true
}

# notify reads the stream, writes departments and its ledger into the table, and publishes.
data "aws_iam_policy_document" "notify" {
  statement {
    sid       = "ReadStream"
    actions   = ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"]
    resources = [aws_dynamodb_table.documents.stream_arn]
  }
  statement {
    sid       = "RouteAndLedger"
    actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
    resources = [aws_dynamodb_table.documents.arn]
  }
  statement {
    # Counting is a transaction of a conditional put (the document's mark) and an update (its
    # day's shard); a reclassification reads the mark and moves it.
    sid       = "CountDocuments"
    actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
    resources = [aws_dynamodb_table.counts.arn]
    # Marks and counters only: the reports are aggregate's.
    condition {
      test     = "ForAllValues:StringLike"
      variable = "dynamodb:LeadingKeys"
      values   = ["counted#*", "count#*"]
    }
  }
  statement {
    sid       = "UnfinishedBatches"
    actions   = ["dynamodb:Query"]
    resources = ["${aws_dynamodb_table.documents.arn}/index/unfinished_batches"]
  }
  statement {
    sid       = "ReadArchive"
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.documents["archive"].arn}/*"]
  }
  statement {
    sid       = "DepartmentCopies"
    actions   = ["s3:PutObject", "s3:DeleteObject"]
    resources = ["${aws_s3_bucket.documents["archive"].arn}/departments/*"]
  }
  statement {
    sid       = "Publish"
    actions   = ["sns:Publish"]
    resources = concat([aws_sns_topic.notifications.arn], aws_sns_topic.email[*].arn)
  }
  statement {
    sid       = "EncryptedTopic"
    actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
    resources = ["*"]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["sns.${var.region}.amazonaws.com"]
    }
  }
  statement {
    sid       = "FailedRecords"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.notify_dlq.arn]
  }
}

resource "aws_iam_role_policy" "notify" {
  name   = "notify"
  role   = aws_iam_role.function["notify"].id
  policy = data.aws_iam_policy_document.notify.json
}

# The stream records notify acts on; Lambda drops the rest before invoking it (ledger items,
# hash claims, pending uploads, removals, and a batch's changes while its station is still
# pushing, each of which carries the whole batch twice). Three filters, any matching: a document
# item with a verdict (the verdict itself, notify's own department write, an operator's move);
# a station batch that is closed or complete; one flagged overdue. notify's own department
# write stays: it completes a verdict whose own record failed for good. The library says the
# same (intake::notification::wakes_notify: the notifier's unit tests deliver only those
# records), and the integration suite checks every record it sees against both.
locals {
  notify_stream_filters = [
    {
      eventName = ["INSERT", "MODIFY"]
      dynamodb  = { NewImage = { status = { S = ["accepted", "rejected", "duplicate"] } } }
    },
    {
      eventName = ["INSERT", "MODIFY"]
      dynamodb = {
        Keys     = { id = { S = [{ prefix = "batch#" }] } }
        NewImage = { state = { S = ["closed", "complete"] } }
      }
    },
    {
      eventName = ["INSERT", "MODIFY"]
      dynamodb = {
        Keys     = { id = { S = [{ prefix = "batch#" }] } }
        NewImage = { overdue_at = { S = [{ exists = true }] } }
      }
    },
  ]
}

# Created only where Lambda runs the mapping: moto feeds a table's stream mappings to its own
# Lambda whether they are enabled or not (and then drops the records), so the local stack leaves
# it out and runs its own poller.
resource "aws_lambda_event_source_mapping" "notify" {
  count                              = var.event_source_mapping_enabled ? 1 : 0
  event_source_arn                   = aws_dynamodb_table.documents.stream_arn
  function_name                      = aws_lambda_function.function["notify"].arn
  starting_position                  = "TRIM_HORIZON"
  batch_size                         = var.notify_batch_size
  maximum_batching_window_in_seconds = 1
  function_response_types            = ["ReportBatchItemFailures"]
  bisect_batch_on_function_error     = true
  maximum_retry_attempts             = 20
  filter_criteria {
    dynamic "filter" {
      for_each = local.notify_stream_filters
      content {
        pattern = jsonencode(filter.value)
      }
    }
  }
  destination_config {
    on_failure {
      destination_arn = aws_sqs_queue.notify_dlq.arn
    }
  }
}

# A department's consumer (its case-management system or a clerk's tool) assumes this role:
# it reads its own queue, its own copies of its documents (departments/<id>/ in the archive,
# made by notify), and queries the table's by_department index for its own department.
data "aws_iam_policy_document" "department_consumer_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "AWS"
      identifiers = var.department_consumer_principals != null ? var.department_consumer_principals : ["arn:aws:iam::${data.aws_caller_identity.current.account_id}:root"]
    }
  }
}

data "aws_iam_policy_document" "department_consumer" {
  for_each = local.departments
  statement {
    sid       = "OwnQueue"
    actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"]
    resources = [aws_sqs_queue.department[each.key].arn]
  }
  statement {
    sid       = "OwnDocumentCopies"
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.documents["archive"].arn}/departments/${each.key}/*"]
  }
  statement {
    sid       = "OwnDocuments"
    actions   = ["dynamodb:Query"]
    resources = ["${aws_dynamodb_table.documents.arn}/index/by_department"]
    condition {
      test     = "ForAllValues:StringEquals"
      variable = "dynamodb:LeadingKeys"
      values   = [each.key]
    }
  }
}

resource "aws_iam_role" "department_consumer" {
  for_each           = local.departments
  name               = "${var.name}-department-${each.key}"
  description        = "Consumer of ${each.value}: its notification queue and its documents only."
  assume_role_policy = data.aws_iam_policy_document.department_consumer_assume.json
}

resource "aws_iam_role_policy" "department_consumer" {
  for_each = local.departments
  name     = "own-queue-and-documents"
  role     = aws_iam_role.department_consumer[each.key].id
  policy   = data.aws_iam_policy_document.department_consumer[each.key].json
}

# A department's copy of a document that moved to another department is deleted; the archive's
# versioning keeps it as a noncurrent version, which is not needed beyond the original in the
# archive itself.
resource "aws_s3_bucket_lifecycle_configuration" "archive" {
  bucket = aws_s3_bucket.documents["archive"].id
  rule {
    id     = "expire-withdrawn-department-copies"
    status = "Enabled"
    filter {
      prefix = "departments/"
    }
    noncurrent_version_expiration {
      noncurrent_days = 30
    }
  }
}

# Optional e-mail per department: FIFO topics deliver to SQS only, so notify also publishes a
# short text to a standard topic (best effort), filtered to each department's address.
resource "aws_sns_topic" "email" {
  count             = length(var.department_emails) > 0 ? 1 : 0
  name              = "${var.name}-notifications-email"
  kms_master_key_id = "alias/aws/sns"
}

resource "aws_sns_topic_subscription" "email" {
  for_each      = var.department_emails
  topic_arn     = aws_sns_topic.email[0].arn
  protocol      = "email"
  endpoint      = each.value
  filter_policy = jsonencode({ department = [each.key] })
}

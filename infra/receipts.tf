# The incoming register: its own table (a counter per office and year, an entry per number, a
# mark per document), written by notify in one transaction per block of documents; it has no
# stream, so its writes wake nothing. Never deleted with the stack by mistake.
resource "aws_dynamodb_table" "register" {
  name         = "${var.name}-register"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"

  attribute {
    name = "id"
    type = "S"
  }

  point_in_time_recovery {
    enabled = true
  }
  server_side_encryption {
    enabled = true
  }
  deletion_protection_enabled = !local.local_aws
}

# Receipts: the office's signing key in KMS (asymmetric, P-256, sign only: the private key
# never leaves KMS), the parameter its certificate chain is installed in (`intake receipt-key
# install`), the receipts function and who may use what. notify numbers each document in the
# register; the number's write wakes the receipts function, which issues the receipt into the
# archive (receipts/<id>.pdf); intake-api reads a receipt back for its sender.

locals {
  receipt_certificate_parameter = "/${var.name}/receipts/certificate"
}

resource "aws_kms_key" "receipts" {
  description              = "${var.name}: signs the office's receipts (PAdES)."
  customer_master_key_spec = "ECC_NIST_P256"
  key_usage                = "SIGN_VERIFY"
  deletion_window_in_days  = 30
}

resource "aws_kms_alias" "receipts" {
  name          = "alias/${var.name}-receipts"
  target_key_id = aws_kms_key.receipts.key_id
}

data "aws_iam_policy_document" "notify_register" {
  statement {
    # The register's transactions put entries and marks and move a counter; nothing is deleted.
    sid       = "Register"
    actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
    resources = [aws_dynamodb_table.register.arn]
  }
}

resource "aws_iam_role_policy" "notify_register" {
  name   = "notify-register"
  role   = aws_iam_role.function["notify"].id
  policy = data.aws_iam_policy_document.notify_register.json
}

data "aws_iam_policy_document" "receipts" {
  statement {
    sid       = "ReadStream"
    actions   = ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"]
    resources = [aws_dynamodb_table.documents.stream_arn]
  }
  statement {
    sid       = "SignReceipts"
    actions   = ["kms:Sign", "kms:GetPublicKey"]
    resources = [aws_kms_key.receipts.arn]
  }
  statement {
    sid       = "ReceiptCertificate"
    actions   = ["ssm:GetParameter"]
    resources = ["arn:${data.aws_partition.current.partition}:ssm:${var.region}:${data.aws_caller_identity.current.account_id}:parameter${local.receipt_certificate_parameter}"]
  }
  statement {
    # Written once (If-None-Match), read to see whether it was issued.
    sid       = "StoreReceipts"
    actions   = ["s3:PutObject", "s3:GetObject"]
    resources = ["${aws_s3_bucket.documents["archive"].arn}/receipts/*"]
  }
  statement {
    # HeadObject on a missing key answers 404 only to a caller with ListBucket on the bucket
    # (403 otherwise, which would read as a fault); a prefix condition does not apply to it.
    sid       = "FindReceipts"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.documents["archive"].arn]
  }
  statement {
    sid       = "FailedRecords"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.receipts_dlq.arn]
  }
}

resource "aws_iam_role_policy" "receipts" {
  name   = "receipts"
  role   = aws_iam_role.function["receipts"].id
  policy = data.aws_iam_policy_document.receipts.json
}

# Records whose receipt keeps failing end here (with the batch's position), after the retries.
resource "aws_sqs_queue" "receipts_dlq" {
  name                      = "${var.name}-receipts-dlq"
  message_retention_seconds = 1209600
  sqs_managed_sse_enabled   = true
}

# The stream records the receipts function acts on: a document item in which its register
# number appears (notify's write of it). The library says the same
# (intake::receipt::desk::wakes_receipts), and the local stack checks every record against both.
locals {
  receipts_stream_filters = [
    {
      eventName = ["MODIFY"]
      dynamodb = {
        NewImage = { register_number = { S = [{ exists = true }] } }
        OldImage = { register_number = [{ exists = false }] }
      }
    },
  ]
}

# As notify's (notify.tf): created only where Lambda runs the mapping.
resource "aws_lambda_event_source_mapping" "receipts" {
  count                              = var.event_source_mapping_enabled ? 1 : 0
  event_source_arn                   = aws_dynamodb_table.documents.stream_arn
  function_name                      = aws_lambda_function.function["receipts"].arn
  starting_position                  = "TRIM_HORIZON"
  batch_size                         = var.notify_batch_size
  maximum_batching_window_in_seconds = 1
  function_response_types            = ["ReportBatchItemFailures"]
  bisect_batch_on_function_error     = true
  maximum_retry_attempts             = 20
  filter_criteria {
    dynamic "filter" {
      for_each = local.receipts_stream_filters
      content {
        pattern = jsonencode(filter.value)
      }
    }
  }
  destination_config {
    on_failure {
      destination_arn = aws_sqs_queue.receipts_dlq.arn
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "receipts_dlq" {
  alarm_name          = "${var.name}-receipts-dlq-not-empty"
  alarm_description   = "Documents whose receipt could not be issued (the key, its certificate, the TSA or the bucket)."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.receipts_dlq.name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
}

data "aws_iam_policy_document" "intake_api_receipts" {
  statement {
    sid       = "ReadReceipts"
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.documents["archive"].arn}/receipts/*"]
  }
}

resource "aws_iam_role_policy" "intake_api_receipts" {
  name   = "intake-api-receipts"
  role   = aws_iam_role.function["intake-api"].id
  policy = data.aws_iam_policy_document.intake_api_receipts.json
}

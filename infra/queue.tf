# The incoming bucket notifies this queue; validate consumes it. A message that keeps failing moves
# to the dead-letter queue after validate_max_receive_count deliveries, where an alarm calls an
# operator: the document itself is still in the incoming bucket.

resource "aws_sqs_queue" "validate_dlq" {
  name                      = "${var.name}-validate-dlq"
  message_retention_seconds = 1209600
  sqs_managed_sse_enabled   = true
}

resource "aws_sqs_queue" "validate" {
  name = "${var.name}-validate"
  # AWS advises at least six times the function timeout, so a slow batch is not redelivered
  # while it still runs.
  visibility_timeout_seconds = coalesce(var.validate_visibility_timeout_seconds, var.validate_timeout_seconds * 6)
  message_retention_seconds  = 1209600
  sqs_managed_sse_enabled    = true
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.validate_dlq.arn
    maxReceiveCount     = var.validate_max_receive_count
  })
}

data "aws_iam_policy_document" "validate_queue" {
  statement {
    sid       = "IncomingBucketNotifications"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.validate.arn]
    principals {
      type        = "Service"
      identifiers = ["s3.amazonaws.com"]
    }
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_s3_bucket.documents["incoming"].arn]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

resource "aws_sqs_queue_policy" "validate" {
  queue_url = aws_sqs_queue.validate.id
  policy    = data.aws_iam_policy_document.validate_queue.json
}

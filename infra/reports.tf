# The daily report. notify keeps sharded day counters in the table as documents are judged;
# aggregate reads them (days x shards small items, whatever the volume) at 00:15 Warsaw time for
# the day before, writes the report to the table and the reports bucket, and sends a summary to
# the management topic.

resource "aws_sns_topic" "management" {
  name              = "${var.name}-management"
  kms_master_key_id = "alias/aws/sns"
}

resource "aws_sns_topic_subscription" "management" {
  for_each  = toset(var.management_emails)
  topic_arn = aws_sns_topic.management.arn
  protocol  = "email"
  endpoint  = each.value
}

data "aws_iam_policy_document" "aggregate" {
  # Reads counters and reports, writes reports: never a document's mark or a counter.
  statement {
    sid       = "ReadCounters"
    actions   = ["dynamodb:BatchGetItem", "dynamodb:GetItem"]
    resources = [aws_dynamodb_table.counts.arn]
    condition {
      test     = "ForAllValues:StringLike"
      variable = "dynamodb:LeadingKeys"
      values   = ["count#*", "report#*"]
    }
  }
  statement {
    sid       = "KeepReports"
    actions   = ["dynamodb:PutItem"]
    resources = [aws_dynamodb_table.counts.arn]
    condition {
      test     = "ForAllValues:StringLike"
      variable = "dynamodb:LeadingKeys"
      values   = ["report#*"]
    }
  }
  statement {
    sid       = "WriteReportFiles"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.documents["reports"].arn}/reports/*"]
  }
  statement {
    sid       = "TellManagement"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.management.arn]
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
}

resource "aws_iam_role_policy" "aggregate" {
  name   = "aggregate"
  role   = aws_iam_role.function["aggregate"].id
  policy = data.aws_iam_policy_document.aggregate.json
}

# A night without a report is an alarm (the schedule invokes aggregate asynchronously: its
# errors show only here).
resource "aws_cloudwatch_metric_alarm" "aggregate_errors" {
  alarm_name          = "${var.name}-daily-report-failed"
  alarm_description   = "aggregate failed: the daily report was not made (rerun it with intake report)."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = aws_lambda_function.function["aggregate"].function_name }
  statistic           = "Sum"
  period              = 3600
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
}

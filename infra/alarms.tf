# Every alarm of the system goes to one topic, which the IT team subscribes to (alarm_emails, or
# their own pager or chat through the output alarm_topic_arn). CloudWatch cannot publish to a
# topic under the AWS-managed SNS key, so the topic has a key of its own that CloudWatch may use.

data "aws_iam_policy_document" "alarms_key" {
  statement {
    sid       = "Account"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:aws:iam::${data.aws_caller_identity.current.account_id}:root"]
    }
  }
  statement {
    sid       = "CloudWatchAlarms"
    actions   = ["kms:GenerateDataKey*", "kms:Decrypt"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }
  }
}

resource "aws_kms_key" "alarms" {
  description         = "${var.name}: the alarm topic's messages."
  enable_key_rotation = true
  policy              = data.aws_iam_policy_document.alarms_key.json
}

resource "aws_sns_topic" "alarms" {
  name              = "${var.name}-alarms"
  kms_master_key_id = aws_kms_key.alarms.arn
}

data "aws_iam_policy_document" "alarms_topic" {
  statement {
    sid       = "CloudWatchAlarms"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.alarms.arn]
    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

resource "aws_sns_topic_policy" "alarms" {
  arn    = aws_sns_topic.alarms.arn
  policy = data.aws_iam_policy_document.alarms_topic.json
}

resource "aws_sns_topic_subscription" "alarms" {
  for_each  = toset(var.alarm_emails)
  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = each.value
}

# A dead-letter queue that is not empty: something failed after its retries, and waits there
# for an operator (nothing is dropped).
locals {
  dead_letter_alarms = {
    validate = {
      name        = "${var.name}-validate-dlq-not-empty"
      description = "Incoming documents whose validation failed repeatedly; their bytes are still in the incoming bucket."
      queue       = aws_sqs_queue.validate_dlq.name
    }
    notify = {
      name        = "${var.name}-notify-dlq-not-empty"
      description = "Stream records notify could not handle: some department was not told of a document (its record is in the table)."
      queue       = aws_sqs_queue.notify_dlq.name
    }
    schedules = {
      name        = "${var.name}-schedule-not-delivered"
      description = "A schedule could not invoke its function (the daily report or the overdue-batch sweep did not run); the message names the schedule."
      queue       = aws_sqs_queue.schedules_dlq.name
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "dead_letters" {
  for_each            = local.dead_letter_alarms
  alarm_name          = each.value.name
  alarm_description   = each.value.description
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = each.value.queue }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
}

# Deployments from before keep their alarms.
moved {
  from = aws_cloudwatch_metric_alarm.validate_dlq
  to   = aws_cloudwatch_metric_alarm.dead_letters["validate"]
}

moved {
  from = aws_cloudwatch_metric_alarm.notify_dlq
  to   = aws_cloudwatch_metric_alarm.dead_letters["notify"]
}

# The EventBridge Scheduler schedules, each invoking one function with a fixed payload through a
# role that may invoke that function only. An invocation the Scheduler cannot make after its
# retries (a throttled or missing function, a role problem: nothing the function's own error
# metrics would show) goes to a dead-letter queue, whose alarm calls an operator.

locals {
  schedules = {
    # 00:15 every day in Warsaw time, whatever the offset from UTC that day; aggregate reports
    # the Warsaw day before the schedule's own time, so a late or retried run reports the same
    # day.
    daily-report = {
      description = "The day before's report, at 00:15 Europe/Warsaw."
      expression  = "cron(15 0 * * ? *)"
      timezone    = "Europe/Warsaw"
      function    = "aggregate"
      # Written out: jsonencode would escape < and >, and the Scheduler would not fill it in.
      input   = "{\"scheduled_time\": \"<aws.scheduler.scheduled-time>\"}"
      retries = 5
    }
    overdue-batches = {
      description = "Flags station batches that have not completed in ${var.batch_overdue_minutes} minutes."
      expression  = "rate(15 minutes)"
      timezone    = "UTC"
      function    = "notify"
      input       = jsonencode({ task = "flag-overdue-batches" })
      retries     = 2
    }
  }
}

data "aws_iam_policy_document" "scheduler_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["scheduler.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

resource "aws_iam_role" "schedule" {
  for_each           = local.schedules
  name               = "${var.name}-schedule-${each.key}"
  assume_role_policy = data.aws_iam_policy_document.scheduler_assume.json
}

data "aws_iam_policy_document" "schedule" {
  for_each = local.schedules
  statement {
    actions   = ["lambda:InvokeFunction"]
    resources = [aws_lambda_function.function[each.value.function].arn]
  }
  statement {
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.schedules_dlq.arn]
  }
}

resource "aws_sqs_queue" "schedules_dlq" {
  name                      = "${var.name}-schedules-dlq"
  message_retention_seconds = 1209600
  sqs_managed_sse_enabled   = true
}

resource "aws_iam_role_policy" "schedule" {
  for_each = local.schedules
  name     = "invoke-${each.value.function}"
  role     = aws_iam_role.schedule[each.key].id
  policy   = data.aws_iam_policy_document.schedule[each.key].json
}

resource "aws_scheduler_schedule" "function" {
  for_each                     = local.schedules
  name                         = "${var.name}-${each.key}"
  description                  = each.value.description
  schedule_expression          = each.value.expression
  schedule_expression_timezone = each.value.timezone
  flexible_time_window {
    mode = "OFF"
  }
  target {
    arn      = aws_lambda_function.function[each.value.function].arn
    role_arn = aws_iam_role.schedule[each.key].arn
    input    = each.value.input
    retry_policy {
      maximum_retry_attempts = each.value.retries
    }
    dead_letter_config {
      arn = aws_sqs_queue.schedules_dlq.arn
    }
  }
}

# Deployments from before the schedules shared these resources keep their overdue sweep.
moved {
  from = aws_scheduler_schedule.overdue_sweep
  to   = aws_scheduler_schedule.function["overdue-batches"]
}

moved {
  from = aws_iam_role.overdue_sweep
  to   = aws_iam_role.schedule["overdue-batches"]
}

moved {
  from = aws_iam_role_policy.overdue_sweep
  to   = aws_iam_role_policy.schedule["overdue-batches"]
}

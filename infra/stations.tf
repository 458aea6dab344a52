# Scanning stations: one per drop-box site (the sites of config/routing.json). A station signs
# its requests to intake-api with its own key, kept as a SecureString under
# station_key_prefix/<station>; keys are made, rotated and revoked with `intake station key` and
# `intake station revoke`, never by Terraform (a key in the state would be one more copy to
# guard). Batches that do not complete in batch_overdue_minutes are flagged by notify, which a
# schedule runs every 15 minutes.

locals {
  station_key_prefix = "/${var.name}/stations/"
  stations           = { for site in local.routing.sites : site.id => site.address }
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

resource "aws_iam_role" "overdue_sweep" {
  name               = "${var.name}-overdue-sweep"
  assume_role_policy = data.aws_iam_policy_document.scheduler_assume.json
}

data "aws_iam_policy_document" "overdue_sweep" {
  statement {
    actions   = ["lambda:InvokeFunction"]
    resources = [aws_lambda_function.function["notify"].arn]
  }
}

resource "aws_iam_role_policy" "overdue_sweep" {
  name   = "invoke-notify"
  role   = aws_iam_role.overdue_sweep.id
  policy = data.aws_iam_policy_document.overdue_sweep.json
}

resource "aws_scheduler_schedule" "overdue_sweep" {
  name                = "${var.name}-overdue-batches"
  description         = "Flags station batches that have not completed in ${var.batch_overdue_minutes} minutes."
  schedule_expression = "rate(15 minutes)"
  flexible_time_window {
    mode = "OFF"
  }
  target {
    arn      = aws_lambda_function.function["notify"].arn
    role_arn = aws_iam_role.overdue_sweep.arn
    input    = jsonencode({ task = "flag-overdue-batches" })
    retry_policy {
      maximum_retry_attempts = 2
    }
  }
}

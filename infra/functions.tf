# The functions, each with its own least-privilege role and log group.

locals {
  functions = {
    intake-api = {
      description = "Web-form API: upload requests and upload status."
      memory      = 128
      timeout     = var.api_timeout_seconds
      environment = {
        INTAKE_TABLE                  = aws_dynamodb_table.documents.name
        INTAKE_INCOMING_BUCKET        = aws_s3_bucket.documents["incoming"].id
        INTAKE_MAX_UPLOAD_BYTES       = tostring(var.max_upload_bytes)
        INTAKE_UPLOAD_URL_TTL_SECONDS = tostring(var.upload_url_ttl_seconds)
        INTAKE_S3_FORCE_PATH_STYLE    = tostring(local.local_aws)
        # Each scanning station's key: a SecureString per station under this prefix.
        INTAKE_STATION_KEY_PREFIX        = local.station_key_prefix
        INTAKE_STATION_KEY_CACHE_SECONDS = tostring(var.station_key_cache_seconds)
        INTAKE_ARCHIVE_BUCKET            = aws_s3_bucket.documents["archive"].id
      }
    }
    validate = {
      description = "Validates, stores and records every incoming document."
      memory      = var.validate_memory_mb
      timeout     = var.validate_timeout_seconds
      environment = {
        INTAKE_TABLE               = aws_dynamodb_table.documents.name
        INTAKE_ARCHIVE_BUCKET      = aws_s3_bucket.documents["archive"].id
        INTAKE_QUARANTINE_BUCKET   = aws_s3_bucket.documents["quarantine"].id
        INTAKE_MAX_UPLOAD_BYTES    = tostring(var.max_upload_bytes)
        INTAKE_PDF_POLICY          = var.pdf_policy
        INTAKE_S3_FORCE_PATH_STYLE = tostring(local.local_aws)
        INTAKE_TRUST_ANCHORS = (var.trust_anchors_pem == "" ? "" :
        "s3://${aws_s3_bucket.documents["incoming"].id}/${aws_s3_object.trust_anchors[0].key}")
        INTAKE_SIGNATURE_REQUIRED_SERVICES  = join(",", var.signature_required_services)
        INTAKE_REVOCATION_REQUIRED_SERVICES = join(",", var.revocation_required_services)
        # Deliveries that wait for a declared .p7s; the last one before the dead-letter queue
        # judges the document without it.
        INTAKE_SIGNATURE_WAIT_ATTEMPTS = tostring(max(1, var.validate_max_receive_count - 1))
      }
    }
    notify = {
      description = "Routes every judged document to its department and notifies it once."
      # Stream records of a station batch carry the batch item's old and new images (81 MiB
      # peak measured for a 250-scan batch).
      memory  = 256
      timeout = 30
      environment = {
        INTAKE_TABLE                 = aws_dynamodb_table.documents.name
        INTAKE_NOTIFY_TOPIC_ARN      = aws_sns_topic.notifications.arn
        INTAKE_EMAIL_TOPIC_ARN       = length(var.department_emails) > 0 ? aws_sns_topic.email[0].arn : ""
        INTAKE_BATCH_OVERDUE_SECONDS = tostring(var.batch_overdue_minutes * 60)
        INTAKE_COUNTS_TABLE          = aws_dynamodb_table.counts.name
        INTAKE_COUNTER_SHARDS        = tostring(var.counter_shards)
        # The incoming register.
        INTAKE_REGISTER_TABLE = aws_dynamodb_table.register.name
        INTAKE_OFFICE_CODE    = var.office_code
        # notify copies each document into its department's prefix of the archive.
        INTAKE_S3_FORCE_PATH_STYLE = tostring(local.local_aws)
      }
    }
    receipts = {
      description = "Issues each registered document's receipt, signed by the office through KMS."
      memory      = 256
      # A delivery of 100 records signs (and time-stamps) up to 100 receipts, 8 at a time.
      timeout = 60
      environment = {
        INTAKE_OFFICE_CODE                   = var.office_code
        INTAKE_OFFICE_NAME                   = var.office_name
        INTAKE_OFFICE_ADDRESS                = var.office_address
        INTAKE_ARCHIVE_BUCKET                = aws_s3_bucket.documents["archive"].id
        INTAKE_RECEIPT_KEY_ID                = aws_kms_key.receipts.arn
        INTAKE_RECEIPT_CERTIFICATE_PARAMETER = local.receipt_certificate_parameter
        INTAKE_TSA_URL                       = var.tsa_url
        INTAKE_S3_FORCE_PATH_STYLE           = tostring(local.local_aws)
      }
    }
    aggregate = {
      description = "Makes the daily report from the day counters: table item, JSON, CSV and HTML, and a summary to management."
      memory      = 256
      timeout     = 300
      environment = {
        INTAKE_COUNTS_TABLE         = aws_dynamodb_table.counts.name
        INTAKE_REPORTS_BUCKET       = aws_s3_bucket.documents["reports"].id
        INTAKE_MANAGEMENT_TOPIC_ARN = aws_sns_topic.management.arn
        INTAKE_COUNTER_SHARDS       = tostring(var.counter_shards)
        INTAKE_S3_FORCE_PATH_STYLE  = tostring(local.local_aws)
      }
    }
  }
}

data "aws_iam_policy_document" "lambda_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "function" {
  for_each           = local.functions
  name               = "${var.name}-${each.key}"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
}

resource "aws_cloudwatch_log_group" "function" {
  for_each          = local.functions
  name              = "/aws/lambda/${var.name}-${each.key}"
  retention_in_days = var.log_retention_days
}

data "aws_iam_policy_document" "function_logs" {
  for_each = local.functions
  statement {
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.function[each.key].arn}:*"]
  }
}

resource "aws_iam_role_policy" "function_logs" {
  for_each = local.functions
  name     = "logs"
  role     = aws_iam_role.function[each.key].id
  policy   = data.aws_iam_policy_document.function_logs[each.key].json
}

# intake-api signs uploads with its own credentials, so it may write web and station uploads
# and nothing else; it creates pending records and batches, reads them back, and reads the
# stations' keys.
data "aws_iam_policy_document" "intake_api" {
  statement {
    sid       = "PresignUploads"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.documents["incoming"].arn}/incoming/web/*", "${aws_s3_bucket.documents["incoming"].arn}/incoming/stations/*"]
  }
  statement {
    sid       = "SeeArrivedScans"
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.documents["incoming"].arn}/incoming/stations/*"]
  }
  # Without it S3 answers a missing scan with 403 instead of 404. Not narrowed by s3:prefix:
  # that key exists only on list requests, so the HeadObject's check would fail it.
  statement {
    sid       = "TellMissingScans"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.documents["incoming"].arn]
  }
  statement {
    sid       = "UploadRecords"
    actions   = ["dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:UpdateItem"]
    resources = [aws_dynamodb_table.documents.arn]
  }
  statement {
    sid       = "StationKeys"
    actions   = ["ssm:GetParameter"]
    resources = ["arn:${data.aws_partition.current.partition}:ssm:${var.region}:${data.aws_caller_identity.current.account_id}:parameter${local.station_key_prefix}*"]
  }
  statement {
    sid       = "DecryptStationKeys"
    actions   = ["kms:Decrypt"]
    resources = ["*"]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["ssm.${var.region}.amazonaws.com"]
    }
  }
}

resource "aws_iam_role_policy" "intake_api" {
  name   = "intake-api"
  role   = aws_iam_role.function["intake-api"].id
  policy = data.aws_iam_policy_document.intake_api.json
}

# The trust anchors sit outside the incoming/ prefix (no expiry; no upload form can name them).
resource "aws_s3_object" "trust_anchors" {
  count        = var.trust_anchors_pem == "" ? 0 : 1
  bucket       = aws_s3_bucket.documents["incoming"].id
  key          = "config/trust-anchors.pem"
  content      = var.trust_anchors_pem
  content_type = "application/x-pem-file"
}

# validate reads incoming objects, writes the archive and quarantine, records verdicts, and
# consumes its queue.
data "aws_iam_policy_document" "validate" {
  statement {
    sid       = "ReadIncoming"
    actions   = ["s3:GetObject", "s3:GetObjectVersion"]
    resources = ["${aws_s3_bucket.documents["incoming"].arn}/incoming/*"]
  }
  statement {
    sid       = "ReadTrustAnchors"
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.documents["incoming"].arn}/config/trust-anchors.pem"]
  }
  statement {
    sid     = "StoreDocuments"
    actions = ["s3:PutObject"]
    resources = [
      "${aws_s3_bucket.documents["archive"].arn}/*",
      "${aws_s3_bucket.documents["quarantine"].arn}/*",
    ]
  }
  statement {
    sid       = "RecordDocuments"
    actions   = ["dynamodb:GetItem", "dynamodb:PutItem"]
    resources = [aws_dynamodb_table.documents.arn]
  }
  statement {
    sid       = "ConsumeQueue"
    actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]
    resources = [aws_sqs_queue.validate.arn]
  }
}

resource "aws_iam_role_policy" "validate" {
  name   = "validate"
  role   = aws_iam_role.function["validate"].id
  policy = data.aws_iam_policy_document.validate.json
}

resource "aws_lambda_function" "function" {
  for_each         = local.functions
  function_name    = "${var.name}-${each.key}"
  description      = each.value.description
  role             = aws_iam_role.function[each.key].arn
  runtime          = "provided.al2023"
  handler          = "bootstrap"
  architectures    = [var.lambda_architecture]
  filename         = "${var.lambda_package_dir}/${each.key}.zip"
  source_code_hash = filebase64sha256("${var.lambda_package_dir}/${each.key}.zip")
  memory_size      = each.value.memory
  timeout          = each.value.timeout

  environment {
    variables = each.value.environment
  }

  # JSON lines with Lambda's own level filter: the functions read AWS_LAMBDA_LOG_LEVEL, which
  # this sets, so the level is changed here (or in the console) without a new environment.
  logging_config {
    log_format            = "JSON"
    log_group             = aws_cloudwatch_log_group.function[each.key].name
    application_log_level = var.log_level
    system_log_level      = "WARN"
  }

  depends_on = [aws_iam_role_policy.function_logs]
}

resource "aws_lambda_function_url" "intake_api" {
  function_name = aws_lambda_function.function["intake-api"].function_name
  # Citizens upload without an AWS identity; what they send is validated, and each upload form
  # is limited to one key, one size range and 15 minutes.
  authorization_type = "NONE"
  cors {
    allow_origins = var.cors_allowed_origins
    allow_methods = ["GET", "POST"]
    allow_headers = ["content-type"]
    max_age       = 3600
  }
}

resource "aws_lambda_event_source_mapping" "validate" {
  event_source_arn                   = aws_sqs_queue.validate.arn
  function_name                      = aws_lambda_function.function["validate"].arn
  batch_size                         = var.validate_batch_size
  maximum_batching_window_in_seconds = 1
  function_response_types            = ["ReportBatchItemFailures"]
  enabled                            = var.event_source_mapping_enabled
}

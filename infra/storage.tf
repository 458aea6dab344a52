# Three buckets, each private, versioned, encrypted and TLS-only:
# - incoming: where browsers post uploads; its notifications start validation;
# - archive: accepted documents, content-addressed by SHA-256;
# - quarantine: rejected documents, kept with their reasons. Nothing a citizen sent is dropped;
# - reports: the daily reports (JSON, CSV, HTML) under reports/daily/ and reports/range/.

locals {
  buckets = {
    incoming   = "${var.name}-incoming-${data.aws_caller_identity.current.account_id}"
    archive    = "${var.name}-archive-${data.aws_caller_identity.current.account_id}"
    quarantine = "${var.name}-quarantine-${data.aws_caller_identity.current.account_id}"
    reports    = "${var.name}-reports-${data.aws_caller_identity.current.account_id}"
  }
}

resource "aws_s3_bucket" "documents" {
  for_each = local.buckets
  bucket   = each.value
}

resource "aws_s3_bucket_public_access_block" "documents" {
  for_each                = aws_s3_bucket.documents
  bucket                  = each.value.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "documents" {
  for_each = aws_s3_bucket.documents
  bucket   = each.value.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_versioning" "documents" {
  for_each = aws_s3_bucket.documents
  bucket   = each.value.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "documents" {
  for_each = aws_s3_bucket.documents
  bucket   = each.value.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

data "aws_iam_policy_document" "tls_only" {
  for_each = aws_s3_bucket.documents
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [each.value.arn, "${each.value.arn}/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "documents" {
  for_each   = var.require_tls ? aws_s3_bucket.documents : {}
  bucket     = each.value.id
  policy     = data.aws_iam_policy_document.tls_only[each.key].json
  depends_on = [aws_s3_bucket_public_access_block.documents]
}

resource "aws_s3_bucket_lifecycle_configuration" "incoming" {
  bucket = aws_s3_bucket.documents["incoming"].id
  rule {
    id     = "expire-processed-uploads"
    status = "Enabled"
    filter {
      prefix = "incoming/"
    }
    expiration {
      days = var.incoming_retention_days
    }
    noncurrent_version_expiration {
      noncurrent_days = var.incoming_retention_days
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}

resource "aws_s3_bucket_cors_configuration" "incoming" {
  bucket = aws_s3_bucket.documents["incoming"].id
  cors_rule {
    allowed_methods = ["POST"]
    allowed_origins = var.cors_allowed_origins
    allowed_headers = ["*"]
    max_age_seconds = 3600
  }
}

resource "aws_s3_bucket_notification" "incoming" {
  bucket = aws_s3_bucket.documents["incoming"].id
  queue {
    queue_arn     = aws_sqs_queue.validate.arn
    events        = ["s3:ObjectCreated:*"]
    filter_prefix = "incoming/"
  }
  depends_on = [aws_sqs_queue_policy.validate]
}

# The documents table: one item per document (id = document id) plus one hash claim per distinct
# content (id = "sha256#<hex>"). The indexes are sparse: only judged documents carry sha256 and
# received_day, and only routed ones a department. Station batches are items too
# (id = "batch#<station>#<batch>"); those not yet complete carry `unfinished`, which puts them in
# the small unfinished_batches index the overdue sweep reads.

resource "aws_dynamodb_table" "documents" {
  name         = "${var.name}-documents"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"

  attribute {
    name = "id"
    type = "S"
  }
  attribute {
    name = "sha256"
    type = "S"
  }
  attribute {
    name = "department"
    type = "S"
  }
  attribute {
    name = "received_day"
    type = "S"
  }
  attribute {
    name = "received_at"
    type = "S"
  }
  attribute {
    name = "unfinished"
    type = "S"
  }

  global_secondary_index {
    name            = "by_sha256"
    hash_key        = "sha256"
    range_key       = "received_at"
    projection_type = "ALL"
  }
  global_secondary_index {
    name            = "by_department"
    hash_key        = "department"
    range_key       = "received_at"
    projection_type = "ALL"
  }
  global_secondary_index {
    name            = "by_day"
    hash_key        = "received_day"
    range_key       = "received_at"
    projection_type = "ALL"
  }

  global_secondary_index {
    name            = "unfinished_batches"
    hash_key        = "unfinished"
    projection_type = "KEYS_ONLY"
  }

  # notify follows every change of a document through the stream.
  stream_enabled   = true
  stream_view_type = "NEW_AND_OLD_IMAGES"

  point_in_time_recovery {
    enabled = true
  }
  server_side_encryption {
    enabled = true
  }
  deletion_protection_enabled = !local.local_aws
}

# The daily counters, one mark per counted document and the reports: apart from the documents,
# so that counting feeds no stream record back to notify, and reading figures needs no access
# to documents.
resource "aws_dynamodb_table" "counts" {
  name         = "${var.name}-counts"
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

variable "name" {
  description = "Name prefix of every resource; also tells stacks apart in one account."
  type        = string
  default     = "intake"
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}$", var.name))
    error_message = "name must be 2-31 lower-case letters, digits or hyphens, starting with a letter."
  }
}

variable "region" {
  description = "AWS region."
  type        = string
  default     = "eu-central-1"
}

variable "aws_endpoint_url" {
  description = "A local AWS endpoint (for example moto at http://127.0.0.1:5000). Null, the default, deploys to real AWS."
  type        = string
  default     = null
}

variable "require_tls" {
  description = "Deny any S3 request to the document buckets that is not over TLS. Only the local stack turns this off: moto enforces the policy but speaks plain HTTP."
  type        = bool
  default     = true
}

variable "lambda_package_dir" {
  description = "Directory with one zip per function (intake-api.zip, validate.zip), each holding its `bootstrap` binary, as `cargo lambda build --release --arm64 --output-format zip` lays them out under target/lambda/<function>/bootstrap.zip (see README)."
  type        = string
}

variable "lambda_architecture" {
  description = "CPU architecture of the function binaries: arm64 (cheaper per ms) or x86_64."
  type        = string
  default     = "arm64"
  validation {
    condition     = contains(["arm64", "x86_64"], var.lambda_architecture)
    error_message = "lambda_architecture must be arm64 or x86_64."
  }
}

variable "max_upload_bytes" {
  description = "Largest document accepted, in bytes."
  type        = number
  default     = 52428800
}

variable "upload_url_ttl_seconds" {
  description = "How long a presigned upload form stays valid (at most 900)."
  type        = number
  default     = 900
  validation {
    condition     = var.upload_url_ttl_seconds >= 60 && var.upload_url_ttl_seconds <= 900
    error_message = "upload_url_ttl_seconds must be between 60 and 900."
  }
}

variable "pdf_policy" {
  description = "The PDF engine's policy per channel as JSON, e.g. {\"drop_box\": {\"active_content\": {\"embedded_file\": \"reject\"}, \"limits\": {\"max_objects\": 100000}}}. Empty: the safe defaults (README, PDF checks)."
  type        = string
  default     = ""
}

variable "trust_anchors_pem" {
  description = "PEM bundle of the certificates signatures must chain to (qualified trust service roots, e.g. from the Polish NCCert trusted list). Stored as config/trust-anchors.pem in the incoming bucket and read by validate at cold start. Empty: signatures can be intact and valid, never trusted."
  type        = string
  default     = ""
}

variable "signature_required_services" {
  description = "Service ids (shared/src/domain/services.rs) whose web submissions must carry a valid, trusted signature; others are accepted with a warning when a signature does not hold."
  type        = list(string)
  default     = []
}

variable "revocation_required_services" {
  description = "Service ids (shared/src/domain/services.rs) whose signed submissions must carry revocation data (CRLs or OCSP responses, as PAdES-LT signatures do) for every certificate of each signature's chain; elsewhere missing revocation data is a warning (revocation_unknown). Revocation is never fetched from the network."
  type        = list(string)
  default     = []
}

variable "validate_memory_mb" {
  description = "Memory of the validate function. It holds one document at a time. An unsigned document costs its size plus what its checks read: the worst of 1,983 public PDFs measured (qpdf's and pdf.js's test files, Debian's manuals, signed files) peaked 60 MiB over its size. A signed one is read whole, and its signed revision beside it, each bounded by pdf_policy's max_structure_bytes (192 MiB, refused past it): with a 50 MiB upload, the runtime and the SDK that needs 512 MB. Lambda's CPU grows with memory, so a document costs about the same."
  type        = number
  default     = 512
}

variable "api_timeout_seconds" {
  description = "Timeout of intake-api for one request (a station's request for the upload forms of a whole batch writes a pending record per file)."
  type        = number
  default     = 10
  validation {
    condition     = var.api_timeout_seconds >= 3 && var.api_timeout_seconds <= 60
    error_message = "api_timeout_seconds is from 3 to 60."
  }
}

variable "validate_timeout_seconds" {
  description = "Timeout of the validate function for one batch. Keep it above validate_batch_size times the PDF engine's time budget (20 s by default) plus the S3 transfers, or one slow batch fails whole."
  type        = number
  default     = 300
}

variable "validate_visibility_timeout_seconds" {
  description = "How long a received message stays hidden before it is delivered again. Null: six times the validate timeout, as AWS advises."
  type        = number
  default     = null
}

variable "validate_batch_size" {
  description = "Messages per validate invocation."
  type        = number
  default     = 5
}

variable "validate_max_receive_count" {
  description = "Deliveries of one message before it moves to the dead-letter queue."
  type        = number
  default     = 5
}

variable "event_source_mapping_enabled" {
  description = "Whether Lambda polls the validate queue. The local stack sets false: its own poller feeds the function binaries, which moto cannot run."
  type        = bool
  default     = true
}

variable "incoming_retention_days" {
  description = "Days an upload stays in the incoming bucket after arrival (the archive and quarantine keep documents for good)."
  type        = number
  default     = 30
}

variable "log_retention_days" {
  description = "Days function logs are kept."
  type        = number
  default     = 90
}

variable "cors_allowed_origins" {
  description = "Origins of the web form allowed to call the API and post uploads from a browser."
  type        = list(string)
  default     = ["*"]
}

variable "notify_batch_size" {
  description = "Stream records per notify invocation."
  type        = number
  default     = 100
}

variable "department_max_receive_count" {
  description = "Receives of a notification by a department's consumer before it moves to that department's dead-letter queue."
  type        = number
  default     = 5
}

variable "department_backlog_alarm" {
  description = "Notifications waiting in a department's queue above which its backlog alarm fires."
  type        = number
  default     = 500
}

variable "department_consumer_principals" {
  description = "Who may assume the department consumer roles (IAM ARNs). Null: this account's root, i.e. anyone the account's IAM policies allow."
  type        = list(string)
  default     = null
}

variable "department_emails" {
  description = "Optional e-mail address per department id (config/routing.json), told of each of its documents through a standard SNS topic (best effort; the queues are the record)."
  type        = map(string)
  default     = {}
}

variable "station_key_cache_seconds" {
  description = "How long intake-api keeps a station's key once read: a rotation or revocation takes effect within this time."
  type        = number
  default     = 60
}

variable "batch_overdue_minutes" {
  description = "A station batch not complete this many minutes after it was opened is flagged, and the site's departments are told."
  type        = number
  default     = 360
}

variable "counter_shards" {
  description = "Counter items per day: a burst of documents spreads over this many keys (each takes about 1,000 writes a second). Raising it later is safe; lowering it hides the upper shards of earlier days from their reports. `intake report` must use the same number (INTAKE_COUNTER_SHARDS)."
  type        = number
  default     = 16
  validation {
    condition     = var.counter_shards >= 1 && var.counter_shards <= 256 && floor(var.counter_shards) == var.counter_shards
    error_message = "counter_shards is a whole number from 1 to 256."
  }
}

variable "management_emails" {
  description = "E-mail addresses told of each daily report (SNS asks each to confirm)."
  type        = list(string)
  default     = []
}

variable "alarm_emails" {
  description = "E-mail addresses told when any alarm fires (a failed night report, a dead-letter queue that is not empty, a department's backlog); SNS asks each to confirm."
  type        = list(string)
  default     = []
}

variable "log_level" {
  description = "The functions' log level (Lambda's application log level): TRACE, DEBUG, INFO, WARN, ERROR or FATAL."
  type        = string
  default     = "INFO"
  validation {
    condition     = contains(["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"], var.log_level)
    error_message = "log_level is one of TRACE, DEBUG, INFO, WARN, ERROR, FATAL."
  }
}

variable "office_code" {
  description = "The office's short code, which register numbers start with (UMK/RPW/2026/000123)."
  type        = string
  default     = "UMK"
  validation {
    condition     = can(regex("^[A-Z][A-Z0-9]{1,11}$", var.office_code))
    error_message = "office_code is 2-12 capital letters or digits, starting with a letter."
  }
}

variable "office_name" {
  description = "The office's name, as its receipts state it."
  type        = string
  default     = "Urząd Miasta Krakowa"
}

variable "office_address" {
  description = "The office's address, as its receipts state it."
  type        = string
  default     = "pl. Wszystkich Świętych 3-4, 31-004 Kraków"
}

variable "tsa_url" {
  description = "An RFC 3161 time-stamping authority that stamps each receipt's signature; empty for none (the receipt then says its time is the office's own)."
  type        = string
  default     = ""
  validation {
    condition     = var.tsa_url == "" || can(regex("^https?://", var.tsa_url))
    error_message = "tsa_url is an http(s) URL, or empty."
  }
}

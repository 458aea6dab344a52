terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.60, < 6.0"
    }
  }
}

locals {
  # A local endpoint (moto) replaces every AWS service endpoint, with the checks that only real
  # AWS can answer switched off.
  local_aws = var.aws_endpoint_url != null
  endpoint  = var.aws_endpoint_url
}

provider "aws" {
  region = var.region

  skip_credentials_validation = local.local_aws
  skip_requesting_account_id  = local.local_aws
  skip_metadata_api_check     = local.local_aws
  s3_use_path_style           = local.local_aws

  endpoints {
    cloudwatch = local.endpoint
    dynamodb   = local.endpoint
    iam        = local.endpoint
    kms        = local.endpoint
    lambda     = local.endpoint
    logs       = local.endpoint
    s3         = local.endpoint
    scheduler  = local.endpoint
    sns        = local.endpoint
    sqs        = local.endpoint
    ssm        = local.endpoint
    sts        = local.endpoint
  }

  default_tags {
    tags = {
      system = "intake"
      stack  = var.name
    }
  }
}

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

# Landing (objects arrive), warehouse (Iceberg tables + Floe's specs/reports), quarantine (whole
# unreadable objects). All: default encryption (SSE-KMS with var.kms_key_arn, else SSE-S3), public
# access blocked, TLS-only policy, versioning, lifecycle.

resource "aws_s3_bucket" "this" {
  for_each = local.buckets
  bucket   = each.value
  tags     = merge(local.tags, { "floe:role" = each.key })

  #checkov:skip=CKV_AWS_18:Server access logs go to var.access_log_bucket when set (aws_s3_bucket_logging below); a log bucket of its own would need logging itself. CloudTrail data events are the alternative.
  #checkov:skip=CKV_AWS_144:Cross-region replication is a disaster-recovery choice per deployment; replicating an Iceberg warehouse object by object does not give a consistent table copy.
  #checkov:skip=CKV_AWS_145:SSE-S3 is the default by design (issue: "SSE-KMS optional, SSE-S3 default"); set var.kms_key_arn for SSE-KMS with a customer key.
  #checkov:skip=CKV2_AWS_62:Only the landing bucket's events drive anything (ingest); warehouse and quarantine events have no consumer.
  #checkov:skip=CKV2_AWS_6:False positive with for_each: aws_s3_bucket_public_access_block.this blocks public access on every bucket of this resource.
  #checkov:skip=CKV_AWS_21:False positive with for_each: aws_s3_bucket_versioning.this enables versioning on every bucket of this resource.
}

resource "aws_s3_bucket_logging" "this" {
  for_each      = var.access_log_bucket == null ? {} : aws_s3_bucket.this
  bucket        = each.value.id
  target_bucket = var.access_log_bucket
  target_prefix = "s3/${each.value.id}/"
}

resource "aws_s3_bucket_public_access_block" "this" {
  for_each                = aws_s3_bucket.this
  bucket                  = each.value.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "this" {
  for_each = aws_s3_bucket.this
  bucket   = each.value.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  for_each = aws_s3_bucket.this
  bucket   = each.value.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = var.kms_key_arn == null ? "AES256" : "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
    bucket_key_enabled = var.kms_key_arn != null
  }
}

# Versioning protects the warehouse against a bad delete and gives ingest's idempotency key an
# object version (`#version=`); on landing it separates rewrites of the same key.
resource "aws_s3_bucket_versioning" "this" {
  for_each = aws_s3_bucket.this
  bucket   = each.value.id
  versioning_configuration {
    status = "Enabled"
  }
}

data "aws_iam_policy_document" "tls_only" {
  for_each = aws_s3_bucket.this
  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      each.value.arn,
      "${each.value.arn}/*",
    ]
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

resource "aws_s3_bucket_policy" "tls_only" {
  for_each   = aws_s3_bucket.this
  bucket     = each.value.id
  policy     = data.aws_iam_policy_document.tls_only[each.key].json
  depends_on = [aws_s3_bucket_public_access_block.this]
}

# Landing objects expire once ingested, except objects registered in place: those are table
# data (a table's data file is the landing object), so with `register_prefixes` expiry is a rule
# per table prefix that holds no registered objects.
locals {
  expiring_prefixes = [
    for p in local.all_prefixes : p
    if !anytrue([for r in var.register_prefixes : startswith(p, r) || startswith(r, p)])
  ]
}

resource "aws_s3_bucket_lifecycle_configuration" "landing" {
  bucket = aws_s3_bucket.this["landing"].id
  rule {
    id     = length(var.register_prefixes) == 0 ? "expire-ingested-objects" : "expire-noncurrent-versions"
    status = "Enabled"
    filter {}
    dynamic "expiration" {
      for_each = length(var.register_prefixes) == 0 ? [var.landing_expiration_days] : []
      content {
        days = expiration.value
      }
    }
    noncurrent_version_expiration {
      noncurrent_days = 7
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
  dynamic "rule" {
    for_each = length(var.register_prefixes) == 0 ? [] : local.expiring_prefixes
    content {
      id     = "expire-ingested-${substr(sha1(rule.value), 0, 12)}"
      status = "Enabled"
      filter {
        prefix = rule.value
      }
      expiration {
        days = var.landing_expiration_days
      }
    }
  }
  # Expiring a current version leaves a delete marker; once its noncurrent versions are gone
  # too, the marker alone remains: remove it (a rule of its own: AWS refuses it beside `days`).
  rule {
    id     = "remove-expired-delete-markers"
    status = "Enabled"
    filter {}
    expiration {
      expired_object_delete_marker = true
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "quarantine" {
  bucket = aws_s3_bucket.this["quarantine"].id
  rule {
    id     = "expire-quarantined-objects"
    status = "Enabled"
    filter {}
    expiration {
      days = var.quarantine_expiration_days
    }
    noncurrent_version_expiration {
      noncurrent_days = 7
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
  # Expiring a current version leaves a delete marker; once its noncurrent versions are gone
  # too, the marker alone remains: remove it (a rule of its own: AWS refuses it beside `days`).
  rule {
    id     = "remove-expired-delete-markers"
    status = "Enabled"
    filter {}
    expiration {
      expired_object_delete_marker = true
    }
  }
}

# The warehouse keeps data as long as the tables reference it (compaction's expiry and orphan
# removal delete the rest); only old versions of deleted files and stale uploads are cleaned.
resource "aws_s3_bucket_lifecycle_configuration" "warehouse" {
  bucket = aws_s3_bucket.this["warehouse"].id
  rule {
    id     = "clean-noncurrent-versions"
    status = "Enabled"
    filter {}
    noncurrent_version_expiration {
      noncurrent_days = 30
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
  # Expiring a current version leaves a delete marker; once its noncurrent versions are gone
  # too, the marker alone remains: remove it (a rule of its own: AWS refuses it beside `days`).
  rule {
    id     = "remove-expired-delete-markers"
    status = "Enabled"
    filter {}
    expiration {
      expired_object_delete_marker = true
    }
  }
}

# Glue Data Catalog (default): one database per namespace the specs use. Floe creates the tables
# from the specs on first use (iceberg-catalog-glue); the databases exist up front so the roles can
# be scoped to them.

resource "aws_glue_catalog_database" "ns" {
  for_each     = var.catalog.type == "glue" ? local.namespaces : toset([])
  name         = each.value
  description  = "Floe Iceberg tables (namespace ${each.value})"
  location_uri = "s3://${local.buckets.warehouse}/${each.value}.db"
  tags         = local.tags
}

# Amazon S3 Tables (catalog.type = "s3tables"): one table bucket, a namespace per spec namespace.
# Floe creates the tables in it from the specs; S3 Tables chooses their storage locations.
resource "aws_s3tables_table_bucket" "this" {
  count = var.catalog.type == "s3tables" ? 1 : 0
  name  = coalesce(var.catalog.table_bucket, "${var.name}-tables")
}

resource "aws_s3tables_namespace" "ns" {
  for_each         = var.catalog.type == "s3tables" ? local.namespaces : toset([])
  namespace        = each.value
  table_bucket_arn = aws_s3tables_table_bucket.this[0].arn
}

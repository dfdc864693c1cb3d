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

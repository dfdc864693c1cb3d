"""Reads a Floe table with pyiceberg (an engine Floe did not write) and prints its rows as JSON
objects sorted by their text: bytes as lowercase hex, UUIDs in their hyphenated form, dates and
times as ISO text, decimals as text.

Usage: table_rows.py <catalog-uri> <catalog-name> <warehouse> <namespace.table> [row-filter]
(row-filter: a pyiceberg filter expression, e.g. "note >= 'y'": files are pruned by their bounds)
S3 settings come from AWS_ENDPOINT_URL / AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_REGION.
"""
import json
import sys

from floe_py import plain, sql_catalog


def main() -> None:
    uri, name, warehouse, table_name = sys.argv[1:5]
    row_filter = sys.argv[5] if len(sys.argv) > 5 else "True"
    catalog = sql_catalog(uri, name, warehouse)
    scan = catalog.load_table(table_name).scan(row_filter=row_filter)
    rows = [plain(r) for r in scan.to_arrow().to_pylist()]
    rows.sort(key=lambda r: json.dumps(r, sort_keys=True))
    print(json.dumps(rows))


if __name__ == "__main__":
    main()

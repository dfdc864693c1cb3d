"""Reads a Floe table with pyiceberg (an engine Floe did not write) and prints its row count,
live data file count and an order-independent checksum of all rows, as JSON.

Usage: table_checksum.py <catalog-uri> <catalog-name> <warehouse> <namespace.table> [snapshot-id]
S3 settings come from AWS_ENDPOINT_URL / AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_REGION.
"""
import hashlib
import json
import sys

from floe_py import sql_catalog


def main() -> None:
    uri, name, warehouse, table_name = sys.argv[1:5]
    snapshot_id = int(sys.argv[5]) if len(sys.argv) > 5 else None
    catalog = sql_catalog(uri, name, warehouse)
    table = catalog.load_table(table_name)
    scan = table.scan(snapshot_id=snapshot_id)
    files = sum(1 for _ in scan.plan_files())
    rows = scan.to_arrow().to_pylist()
    # Sorted canonical lines: the same multiset of rows gives the same digest in any file layout.
    lines = sorted(json.dumps(r, sort_keys=True, default=str) for r in rows)
    digest = hashlib.sha256("\n".join(lines).encode()).hexdigest()
    print(json.dumps({"rows": len(rows), "files": files, "checksum": digest}))


if __name__ == "__main__":
    main()

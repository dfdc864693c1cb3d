"""Reads a Floe table with pyiceberg (an engine Floe did not write) and prints its rows as JSON
objects sorted by their text: bytes as lowercase hex, UUIDs in their hyphenated form, dates and
times as ISO text, decimals as text.

Usage: table_rows.py <catalog-uri> <catalog-name> <warehouse> <namespace.table>
S3 settings come from AWS_ENDPOINT_URL / AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_REGION.
"""
import json
import os
import sys
import uuid

from pyiceberg.catalog.sql import SqlCatalog


def plain(v):
    if isinstance(v, (bytes, bytearray)):
        return v.hex()
    if isinstance(v, uuid.UUID):
        return str(v)
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    return str(v)


def main() -> None:
    uri, name, warehouse, table_name = sys.argv[1:5]
    catalog = SqlCatalog(
        name,
        uri=uri,
        warehouse=warehouse,
        **{
            "s3.endpoint": os.environ["AWS_ENDPOINT_URL"],
            "s3.access-key-id": os.environ["AWS_ACCESS_KEY_ID"],
            "s3.secret-access-key": os.environ["AWS_SECRET_ACCESS_KEY"],
            "s3.region": os.environ.get("AWS_REGION", "us-east-1"),
            "s3.path-style-access": "true",
        },
    )
    rows = [plain(r) for r in catalog.load_table(table_name).scan().to_arrow().to_pylist()]
    rows.sort(key=lambda r: json.dumps(r, sort_keys=True))
    print(json.dumps(rows))


if __name__ == "__main__":
    main()

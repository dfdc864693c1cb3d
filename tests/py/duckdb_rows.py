"""Reads an Iceberg table with DuckDB 1.4.4's iceberg extension (another engine Floe did not write)
from its metadata file and prints its rows as JSON objects, as table_rows.py does: bytes as hex,
UUIDs hyphenated, decimals and times as text, maps as objects.

Usage: duckdb_rows.py <metadata-location> [where]
(where: a SQL condition, e.g. "note >= 'y'": DuckDB prunes data files by their bounds)
S3 settings come from AWS_ENDPOINT_URL / AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_REGION.
"""
import json
import os
import sys
from urllib.parse import urlparse

import duckdb
import duckdb_ext  # noqa: F401  (the offline extension wheels)

from floe_py import plain


def main() -> None:
    metadata = sys.argv[1]
    ext_dir = os.path.join(os.path.dirname(duckdb_ext.__path__[0]), "duckdb_ext", "extensions")
    endpoint = urlparse(os.environ["AWS_ENDPOINT_URL"])
    con = duckdb.connect()
    con.execute(f"SET extension_directory='{ext_dir}'")
    for ext in ("httpfs", "avro", "iceberg"):
        con.execute(f"LOAD {ext}")
    con.execute(
        "CREATE SECRET (TYPE s3, KEY_ID ?, SECRET ?, REGION ?, ENDPOINT ?, URL_STYLE 'path', USE_SSL ?)",
        [
            os.environ["AWS_ACCESS_KEY_ID"],
            os.environ["AWS_SECRET_ACCESS_KEY"],
            os.environ.get("AWS_REGION", "us-east-1"),
            endpoint.netloc,
            endpoint.scheme == "https",
        ],
    )
    where = sys.argv[2] if len(sys.argv) > 2 else "true"
    cur = con.execute(f"SELECT * FROM iceberg_scan(?) WHERE {where}", [metadata])
    names = [d[0] for d in cur.description]
    rows = [plain(dict(zip(names, r))) for r in cur.fetchall()]
    rows.sort(key=lambda r: json.dumps(r, sort_keys=True))
    print(json.dumps(rows))


if __name__ == "__main__":
    main()

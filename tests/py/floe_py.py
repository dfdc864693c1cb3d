"""Shared by the interop scripts: rows as plain JSON values, and the SQLite catalog of a test."""
import os
import uuid


def plain(v):
    """A value as JSON: bytes as lowercase hex, UUIDs hyphenated, maps (DuckDB's {key, value}
    lists) as objects, decimals, dates and times as their text."""
    if isinstance(v, (bytes, bytearray)):
        return v.hex()
    if isinstance(v, uuid.UUID):
        return str(v)
    if isinstance(v, dict):
        if set(v) == {"key", "value"} and isinstance(v["key"], list):
            return {str(k): plain(x) for k, x in zip(v["key"], v["value"])}
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    return str(v)


def sql_catalog(uri, name, warehouse):
    """pyiceberg's SqlCatalog on the test's SQLite file and S3 server (AWS_* variables)."""
    from pyiceberg.catalog.sql import SqlCatalog

    return SqlCatalog(
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

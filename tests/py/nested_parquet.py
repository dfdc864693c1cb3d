"""Writes a Parquet file with nested columns (struct, list, map, list of decimals) with pyarrow —
a writer Floe did not write — for the nested-types interop test.

Usage: nested_parquet.py <out.parquet>
"""
import decimal
import sys

import pyarrow as pa
import pyarrow.parquet as pq

geo = pa.struct([("lat", pa.float64()), ("lon", pa.float64())])
address = pa.struct([("street", pa.string()), ("country", pa.string()), ("geo", geo)])
schema = pa.schema(
    [
        ("id", pa.int64()),
        ("address", address),
        ("tags", pa.list_(pa.string())),
        ("attrs", pa.map_(pa.string(), pa.int64())),
        ("amounts", pa.list_(pa.decimal128(10, 2))),
    ]
)
D = decimal.Decimal
rows = [
    {
        "id": 20,
        "address": {"street": "Quai 2", "country": "DE", "geo": {"lat": 48.85, "lon": 2.35}},
        "tags": ["p", "q"],
        "attrs": [("a", 10), ("b", -1)],
        "amounts": [D("0.01"), D("99999999.99")],
    },
    {"id": 21, "address": None, "tags": [], "attrs": None, "amounts": [None]},
    # A required nested field missing inside a present struct: only this row is quarantined.
    {"id": 22, "address": {"street": "x", "country": None, "geo": None}, "tags": None, "attrs": [], "amounts": []},
]
pq.write_table(pa.Table.from_pylist(rows, schema=schema), sys.argv[1])

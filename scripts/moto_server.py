"""moto's server, corrected where it differs from AWS in ways Floe's tests depend on:

- Glue UpdateTable: stock moto 5.2 accepts any (or a stale) `VersionId`, so two concurrent commits
  silently overwrite each other. AWS refuses a stale VersionId with ConcurrentModificationException;
  the handler is wrapped to do the same, under one lock.
- S3 Tables GetTable: moto returns `"managedByService": false`; in AWS's API it is a string (the
  managing service), present only for AWS-managed tables. The Rust SDK refuses the boolean, so the
  field is dropped when it is not a string.
- S3 Tables UpdateTableMetadataLocation: moto answers `"namespace": "ns"`; AWS answers a list
  (`["ns"]`), which the Rust SDK insists on.
- S3 bucket policies: moto evaluates them with no request context, so a TLS-only policy
  (`Deny` when `aws:SecureTransport` is false) denies every request to its plain-HTTP endpoint —
  and whether an upload races ahead of the policy decides an apply (moto also denies whenever a
  statement's condition does not match, whatever its effect). moto's endpoint stands in for AWS's
  HTTPS one: the TLS-only statement is left out of the evaluation.

Then it runs the normal server:  python moto_server.py -H 127.0.0.1 -p PORT
"""

import json
import sys
import threading

from moto.glue import responses as glue_responses
from moto.glue.exceptions import GlueClientError
from moto.server import main


class ConcurrentModificationException(GlueClientError):
    def __init__(self, message: str):
        super().__init__("ConcurrentModificationException", message)


_lock = threading.Lock()
_update_table = glue_responses.GlueResponse.update_table


def update_table(self):
    with _lock:
        version = self.parameters.get("VersionId")
        if version is not None:
            database = self.parameters.get("DatabaseName")
            name = self.parameters.get("TableInput", {}).get("Name")
            table = self.glue_backend.get_table(database, name)
            current = str(table._current_version)
            if str(version) != current:
                raise ConcurrentModificationException(
                    f"Table {database}.{name}: VersionId {version} is not the current version {current}"
                )
        return _update_table(self)


glue_responses.GlueResponse.update_table = update_table

from moto.s3tables import responses as s3tables_responses  # noqa: E402

_get_table = s3tables_responses.S3TablesResponse.get_table


def get_table(self):
    status, headers, body = _get_table(self)
    doc = json.loads(body)
    if not isinstance(doc.get("managedByService"), str):
        doc.pop("managedByService", None)
    return status, headers, json.dumps(doc)


s3tables_responses.S3TablesResponse.get_table = get_table

_update_location = s3tables_responses.S3TablesResponse.update_table_metadata_location


def update_table_metadata_location(self):
    status, headers, body = _update_location(self)
    doc = json.loads(body)
    if isinstance(doc.get("namespace"), str):
        doc["namespace"] = [doc["namespace"]]
    return status, headers, json.dumps(doc)


s3tables_responses.S3TablesResponse.update_table_metadata_location = update_table_metadata_location

from moto.s3 import models as s3_models  # noqa: E402


def get_permission(self, action, resource):
    from moto.iam.access_control import IAMPolicy, PermissionResult

    if self.policy is None:
        return PermissionResult.NEUTRAL
    policy = json.loads(self.policy.decode())
    statements = policy["Statement"]
    if isinstance(statements, dict):
        statements = [statements]
    # moto answers DENIED for any statement whose condition it cannot match (whatever its
    # effect), so the TLS-only statement, which never applies over TLS, is left out here.
    kept = [
        st
        for st in statements
        if st.get("Condition") != {"Bool": {"aws:SecureTransport": "false"}}
        and st.get("Condition") != {"Bool": {"aws:SecureTransport": ["false"]}}
    ]
    if not kept:
        return PermissionResult.NEUTRAL
    policy["Statement"] = kept
    return IAMPolicy(json.dumps(policy)).is_action_permitted(action, resource)


s3_models.FakeBucket.get_permission = get_permission

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

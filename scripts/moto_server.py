"""moto's server with AWS's optimistic concurrency for Glue UpdateTable.

Stock moto 5.2 accepts any (or a stale) `VersionId` on UpdateTable, so two concurrent commits
silently overwrite each other. AWS refuses a stale VersionId with ConcurrentModificationException;
this wraps moto's handler to do the same, under one lock, then runs the normal server:
    python moto_server.py -H 127.0.0.1 -p PORT
"""

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

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

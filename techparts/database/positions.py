"""Feed positions that are safe under out-of-order commits (inventory.feed, events).

PostgreSQL hands out row ids when a row is inserted, not when its transaction commits, so a
reader paging by id can pass an id whose transaction commits later. A row that records the id
of the transaction that wrote it can be read in (transaction id, row id) order, serving only
rows below the oldest transaction still running: nothing can appear below that any more.
"""

from django.db import models
from django.db.models import Func


class WritingTransaction(Func):
    """The id of the transaction writing a row (PostgreSQL); 0 on SQLite.

    SQLite runs one writer at a time (settings: every transaction takes the write lock when it
    begins), so there ids are in commit order and every row gets 0.
    """

    output_field = models.BigIntegerField()
    template = "0"

    def as_postgresql(self, compiler, connection, **extra_context):
        return "(pg_current_xact_id()::text::bigint)", []

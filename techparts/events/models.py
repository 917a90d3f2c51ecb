"""The outbox: one row per business event, written in the transaction of the change itself.

No event without its change, no change without its event: the rows are inserted by the
services that make the change (inventory.services, orders.services), in the same transaction,
so a rollback takes both. Deliveries and `GET /v1/events` read from here, gap-free in the
order (xact, id) like the stock change feed (techparts.database.positions).
"""

from django.db import models

from techparts.database.positions import WritingTransaction


class Event(models.Model):
    public_id = models.CharField(max_length=40, unique=True, editable=False)
    type = models.CharField(max_length=40, db_index=False)
    # What the event is about, the ordering key of deliveries: "sku:<SKU>" or "order:<id>".
    subject = models.CharField(max_length=120)
    # "": every key that may read the type's scope sees it. Set: only that owner (orders).
    audience_owner = models.CharField(max_length=100, blank=True, default="")
    # The API key owner whose call caused it ("" for staff and the system): the `private`
    # part (reason, reference, actor, adjustment group) is shown to that owner only.
    origin_owner = models.CharField(max_length=100, blank=True, default="")
    data = models.JSONField()
    private = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()
    xact = models.BigIntegerField(db_default=WritingTransaction(), editable=False)
    # The version of its subject the event comes from (a stock record's, for inventory.*
    # events); null for subjects without versions. Webhook fan-out delivers one subject's
    # events in this order (webhooks.delivery).
    version = models.BigIntegerField(null=True, blank=True, editable=False)

    class Meta:
        indexes = [
            models.Index(fields=["xact", "id"], name="event_feed_position"),
            models.Index(
                fields=["subject", "version"],
                name="event_subject_version",
                condition=models.Q(version__isnull=False),
            ),
            models.Index(fields=["created_at"], name="event_created_at"),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} {self.type} {self.subject}"

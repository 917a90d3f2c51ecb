"""Signals of the webhooks app.

`deliveries_created` is sent after new pending Delivery rows are written (a staff redelivery),
inside the transaction that wrote them: the delivery side connects to it and enqueues its
task after commit (techparts.tasks.queue.enqueue_on_commit). Without a receiver nothing is
lost: pending rows are the truth and the sweeper finds them.
"""

from django.dispatch import Signal

# kwargs: endpoint (the WebhookEndpoint), count (rows created)
deliveries_created = Signal()

"""Events are kept EVENTS_RETENTION_DAYS (at least 30), then pruned oldest first."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from techparts.events.checks import events_retention
from techparts.events.models import Event
from techparts.events.services import NewEvent, events_prune, events_record

pytestmark = pytest.mark.django_db


def record(days_ago: float, sku: str) -> None:
    events_record(
        [NewEvent(type="inventory.changed", subject=f"sku:{sku}", data={"sku": sku})],
        origin_owner="",
        created_at=timezone.now() - timedelta(days=days_ago),
    )


def test_events_older_than_the_retention_go_and_the_rest_stay():
    for days, sku in [(45, "OLD-1"), (31, "OLD-2"), (29, "KEPT-1"), (0, "KEPT-2")]:
        record(days, sku)

    assert events_prune(batch_size=1) == 2

    assert sorted(Event.objects.values_list("subject", flat=True)) == ["sku:KEPT-1", "sku:KEPT-2"]


def test_the_command_prunes_and_says_how_many(capsys):
    record(40, "OLD-1")

    call_command("prune_events")

    assert "Pruned 1 event(s) older than 30 days." in capsys.readouterr().out
    assert not Event.objects.exists()


@pytest.mark.parametrize(("days", "errors"), [(29, 1), (30, 0), (90, 0)])
def test_a_retention_under_30_days_is_a_configuration_error(days, errors):
    with override_settings(EVENTS_RETENTION_DAYS=days):
        assert len(events_retention(None)) == errors

"""The shared fixed-window counter (database backend; the Redis one is tested with gunicorn)."""

import time

import pytest
from django.core.exceptions import ImproperlyConfigured

from techparts.ratelimit.models import RateCounter
from techparts.ratelimit.services import parse_rate, rate_limit_hit

pytestmark = pytest.mark.django_db


def test_requests_over_the_limit_get_the_seconds_left_in_the_window():
    results = [rate_limit_hit(bucket="t:a", limit=2, period=3600) for _ in range(4)]

    assert results[:2] == [None, None]
    left = 3600 - time.time() % 3600
    assert all(wait is not None and abs(wait - left) < 5 for wait in results[2:])
    assert RateCounter.objects.get(bucket="t:a").count == 4


def test_buckets_count_separately():
    rate_limit_hit(bucket="t:a", limit=1, period=60)

    assert rate_limit_hit(bucket="t:b", limit=1, period=60) is None
    assert rate_limit_hit(bucket="t:a", limit=1, period=60) is not None


def test_closed_windows_are_deleted_when_a_new_window_opens():
    now = int(time.time())
    RateCounter.objects.create(bucket="t:old", window_start=now - 120, count=9, expires_at=now - 60)

    rate_limit_hit(bucket="t:new", limit=5, period=60)

    assert list(RateCounter.objects.values_list("bucket", flat=True)) == ["t:new"]


@pytest.mark.parametrize(
    ("rate", "parsed"),
    [("600/minute", (600, 60)), ("10/s", (10, 1)), ("5/hour", (5, 3600)), ("", None)],
)
def test_rates_are_parsed(rate, parsed):
    assert parse_rate(rate) == parsed


@pytest.mark.parametrize("rate", ["ten/minute", "10/fortnight", "0/minute"])
def test_a_malformed_rate_is_a_configuration_error(rate):
    with pytest.raises(ImproperlyConfigured):
        parse_rate(rate)

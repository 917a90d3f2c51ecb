import pytest

from tests.webhooks.receivers import Receiver
from webhooks.triggers import forget_endpoints_exist


@pytest.fixture
def receiver(settings):
    """A real HTTP receiver on loopback, which this process may deliver to."""
    settings.WEBHOOKS_ALLOW_LOOPBACK = True
    forget_endpoints_exist()
    with Receiver() as receiver:
        yield receiver
    forget_endpoints_exist()

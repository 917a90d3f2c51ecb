import pytest

from tests.factories import UserFactory


@pytest.fixture
def staff(db):
    """A staff user in no inventory group."""
    return UserFactory(username="staff")


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_superuser=True)

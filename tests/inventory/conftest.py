import pytest
from django.contrib.auth.models import Group, Permission

from inventory.roles import CLERKS, MANAGERS, ensure_groups
from tests.factories import UserFactory


@pytest.fixture
def inventory_groups(db):
    # The data migration creates them; transactional tests flush tables, so make sure here.
    ensure_groups(Group, Permission)
    return {name: Group.objects.get(name=name) for name in (CLERKS, MANAGERS)}


@pytest.fixture
def clerk(inventory_groups):
    user = UserFactory(username="clerk")
    user.groups.add(inventory_groups[CLERKS])
    return user


@pytest.fixture
def manager(inventory_groups):
    user = UserFactory(username="manager")
    user.groups.add(inventory_groups[MANAGERS])
    return user


@pytest.fixture
def staff(db):
    """A staff user in no inventory group."""
    return UserFactory(username="staff")


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_superuser=True)

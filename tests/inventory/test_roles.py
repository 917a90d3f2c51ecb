import pytest
from django.contrib.auth.models import Group

from inventory.roles import CLERKS, GROUP_PERMISSIONS, MANAGERS

pytestmark = pytest.mark.django_db


def perms(name: str) -> set[str]:
    group = Group.objects.get(name=name)
    return {
        f"{p.content_type.app_label}.{p.codename}"
        for p in group.permissions.select_related("content_type")
    }


def test_migration_creates_the_clerk_group_with_correction_rights():
    assert perms(CLERKS) == {
        "inventory.view_stockrecord",
        "inventory.change_stockrecord",
        "inventory.correct_stock",
        "inventory.count_stock",
        "catalog.view_product",
        "inventory.view_approvalrequest",  # their own requests' state
    }


def test_migration_creates_the_manager_group_with_history_and_export_rights():
    assert perms(MANAGERS) == {
        "inventory.view_stockrecord",
        "inventory.change_stockrecord",
        "inventory.view_stockmovement",
        "inventory.export_movements",
        "inventory.manage_counts",
        "inventory.view_stockoverview",
        "catalog.view_product",
        "inventory.view_approvalrequest",
        "inventory.approve_correction",
        "inventory.view_approvalpolicy",
        "inventory.change_approvalpolicy",
    }


def test_no_group_may_add_change_or_delete_ledger_rows():
    for name in GROUP_PERMISSIONS:
        assert not {p for p in perms(name) if p.endswith("_stockmovement")} - {
            "inventory.view_stockmovement"
        }

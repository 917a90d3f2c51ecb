"""Inventory's sweep hook: expired corrections uploads go on every sweep (techparts.tasks)."""

from datetime import datetime

from inventory.imports import stock_import_prune
from techparts.tasks.sweeper import sweep_hook


@sweep_hook("inventory.prune_imports")
def prune_imports(now: datetime) -> int:
    return stock_import_prune(now=now)

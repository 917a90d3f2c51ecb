"""Bring existing products within the rules that migration 0003 makes the database enforce.

- Currency: every order was already totalled in USD at the product's price, so a product
  labelled with another currency was in fact sold in USD; the label is corrected to USD.
- Specifications must be a flat JSON object of text, numbers and booleans. Nothing is thrown
  away: a nested value or list becomes its JSON text, a null entry is dropped, a blank name is
  renamed `unnamed` (`unnamed_2`, ... if taken), and a value that is not an object at all
  (e.g. `[1, 2, 3]`) is kept as text under `legacy_specifications`. A SQL NULL becomes `{}`.
"""

import json
import math

from django.db import migrations

LEGACY_KEY = "legacy_specifications"


def _scalar(value):
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _unused_name(taken):
    name, number = "unnamed", 1
    while name in taken:
        number += 1
        name = f"unnamed_{number}"
    return name


def _clean(specifications):
    if specifications is None:
        return {}
    if not isinstance(specifications, dict):
        return {LEGACY_KEY: _scalar(specifications)}
    cleaned = {}
    for key, value in specifications.items():
        if value is None:
            continue
        name = key if key.strip() else _unused_name({*specifications, *cleaned})
        cleaned[name] = _scalar(value)
    return cleaned


def clean_products(apps, schema_editor):
    Product = apps.get_model("catalog", "Product")
    Product.objects.exclude(currency="USD").update(currency="USD")
    rows = Product.objects.only("pk", "specifications").order_by("pk")
    for product in rows.iterator(chunk_size=2000):
        cleaned = _clean(product.specifications)
        if cleaned != product.specifications or type(cleaned) is not type(product.specifications):
            Product.objects.filter(pk=product.pk).update(specifications=cleaned)


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]

    operations = [migrations.RunPython(clean_products, migrations.RunPython.noop)]

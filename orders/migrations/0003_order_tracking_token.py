"""Give every order an unguessable tracking token; tracking links carry it from now on."""

import secrets

from django.db import migrations, models

import orders.models


def fill_tokens(apps, schema_editor):
    Order = apps.get_model("orders", "Order")
    for order in Order.objects.filter(tracking_token__isnull=True).only("pk").iterator():
        order.tracking_token = secrets.token_urlsafe(24)
        order.save(update_fields=["tracking_token"])


class Migration(migrations.Migration):
    dependencies = [("orders", "0002_order_clerks_group")]

    operations = [
        migrations.AddField(
            model_name="order",
            name="tracking_token",
            field=models.CharField(max_length=64, null=True, editable=False),
        ),
        migrations.RunPython(fill_tokens, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="order",
            name="tracking_token",
            field=models.CharField(
                default=orders.models.new_tracking_token,
                editable=False,
                max_length=64,
                unique=True,
            ),
        ),
    ]

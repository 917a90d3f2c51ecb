"""Claim, action and answer are now one transaction: no record is ever `in_progress`.

Claims left `in_progress` by the old code answered nothing: they are deleted (a retry with
their key runs the action as a first request would), then the state column goes and every
record has its answer's status.
"""

from django.db import migrations, models


def delete_unanswered_claims(apps, schema_editor):
    IdempotencyRecord = apps.get_model("idempotency", "IdempotencyRecord")
    IdempotencyRecord.objects.filter(state="in_progress").delete()
    IdempotencyRecord.objects.filter(response_status__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("idempotency", "0001_initial")]

    operations = [
        migrations.RunPython(delete_unanswered_claims, migrations.RunPython.noop),
        migrations.RemoveField(model_name="idempotencyrecord", name="state"),
        migrations.AlterField(
            model_name="idempotencyrecord",
            name="response_status",
            field=models.PositiveSmallIntegerField(),
        ),
    ]

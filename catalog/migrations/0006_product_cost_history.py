"""The unit cost history, and the `Catalog managers` group who may change unit costs."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from techparts.roles import groups_operation

# The group as made here (catalog.roles holds the current permissions).
GROUP_PERMISSIONS = {
    "Catalog managers": [
        ("catalog", "view_category"),
        ("catalog", "add_category"),
        ("catalog", "change_category"),
        ("catalog", "view_product"),
        ("catalog", "add_product"),
        ("catalog", "change_product"),
        ("catalog", "change_product_cost"),
        ("catalog", "view_productcostchange"),
    ],
}


class Migration(migrations.Migration):

    dependencies = [
        ('catalog', '0005_product_unit_cost'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.CreateModel(
            name='ProductCostChange',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('old_cost', models.DecimalField(blank=True, decimal_places=2, max_digits=10, null=True)),
                ('new_cost', models.DecimalField(blank=True, decimal_places=2, max_digits=10, null=True)),
                ('changed_by_name', models.CharField(max_length=150)),
                ('changed_at', models.DateTimeField(auto_now_add=True)),
                ('changed_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='product_cost_changes', to=settings.AUTH_USER_MODEL)),
                ('product', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='cost_changes', to='catalog.product')),
            ],
            options={
                'verbose_name': 'unit cost change',
                'ordering': ['-changed_at', '-id'],
                'permissions': [('change_product_cost', "Can change a product's unit cost")],
                'indexes': [models.Index(fields=['product', '-changed_at'], name='cost_change_by_product')],
            },
        ),
        groups_operation(GROUP_PERMISSIONS),
    ]

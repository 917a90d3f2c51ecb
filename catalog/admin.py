from django.contrib import admin

from catalog.models import Category
from techparts.admin_input import GuardedModelAdminMixin


@admin.register(Category)
class CategoryAdmin(GuardedModelAdminMixin, admin.ModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}

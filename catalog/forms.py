import json

from django import forms
from django.forms.fields import InvalidJSONInput

from catalog.models import SPECIFICATIONS_HELP, Product


class SpecificationsField(forms.JSONField):
    """The specifications textarea: JSON text in, any parse failure a form error (never a 500).

    An empty box means no specifications ({}); the model decides what a valid value is.
    """

    def to_python(self, value):
        if value in self.empty_values:
            return {}
        try:
            return super().to_python(value)
        except (ValueError, RecursionError):
            # Numbers with thousands of digits and deeply nested arrays fail beyond
            # JSONDecodeError (a ValueError subclass that the parent class already handles).
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None

    def bound_data(self, data, initial):
        try:
            return super().bound_data(data, initial)
        except (ValueError, RecursionError):
            return InvalidJSONInput(data)

    def prepare_value(self, value):
        text = super().prepare_value(value)
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate ("\ud800") cannot be sent back as is
            return json.dumps(value, cls=self.encoder)
        return text


class ProductAdminForm(forms.ModelForm):
    specifications = SpecificationsField(
        required=False,
        help_text=SPECIFICATIONS_HELP,
        widget=forms.Textarea(attrs={"rows": 6, "cols": 80}),
    )

    class Meta:
        model = Product
        fields = [
            "public_id",
            "sku",
            "name",
            "category",
            "manufacturer",
            "is_active",
            "price",
            "currency",
            "unit_cost",
            "specifications",
            "warranty",
            "related_products",
        ]

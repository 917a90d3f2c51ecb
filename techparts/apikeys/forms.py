from django import forms

from techparts.apikeys.models import ApiKey
from techparts.apikeys.scopes import SCOPES


class ApiKeyForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        choices=[(scope, f"{scope} ({phrase})") for scope, phrase in SCOPES.items()],
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = ApiKey
        fields = ["name", "owner", "scopes", "expires_at", "corrections_need_approval"]

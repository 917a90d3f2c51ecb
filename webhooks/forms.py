"""Admin forms for webhook endpoints: they validate, the admin saves through the services."""

from django import forms
from django.conf import settings

from techparts.events.types import ALL_TYPES
from webhooks.addresses import MAX_URL_LENGTH, url_refusal
from webhooks.models import WebhookEndpoint
from webhooks.services import MAX_DESCRIPTION_LENGTH, MAX_REDELIVERY_EVENTS


class WebhookEndpointForm(forms.ModelForm):
    url = forms.CharField(
        label="URL",
        max_length=MAX_URL_LENGTH,
        widget=forms.URLInput(attrs={"size": 80}),
        help_text="https:// only; no user name or password; its host must resolve to public "
        "internet addresses (checked again at every delivery).",
    )
    event_types = forms.MultipleChoiceField(
        choices=[(kind, kind) for kind in ALL_TYPES],
        widget=forms.CheckboxSelectMultiple,
        help_text="order.* events go to the order's owner only.",
    )
    description = forms.CharField(
        max_length=MAX_DESCRIPTION_LENGTH, required=False, widget=forms.TextInput({"size": 80})
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["owner", "url", "event_types", "description", "enabled"]

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        refusal = url_refusal(url)
        if refusal:
            raise forms.ValidationError(f"This URL is refused: {refusal}.")
        return url

    def clean_owner(self) -> str:
        owner = self.cleaned_data["owner"]
        if self.instance.pk is None:
            cap = settings.WEBHOOK_ENDPOINTS_PER_OWNER
            if WebhookEndpoint.objects.filter(owner=owner).count() >= cap:
                raise forms.ValidationError(
                    f"{owner} already has {cap} webhook endpoints, the most allowed."
                )
        return owner


class WebhookEndpointChangeForm(WebhookEndpointForm):
    class Meta(WebhookEndpointForm.Meta):
        fields = ["url", "event_types", "description", "enabled"]


class RedeliverRangeForm(forms.Form):
    """Redeliver the events of a time range (at most MAX_REDELIVERY_EVENTS) to one endpoint."""

    since = forms.DateTimeField(
        label="From",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="Events created at or after this time (UTC).",
    )
    until = forms.DateTimeField(
        label="To",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=f"…and before this time; at most {MAX_REDELIVERY_EVENTS:,} events at once.",
    )

    def clean(self):
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since >= until:
            raise forms.ValidationError("“From” must be before “To”.")
        return cleaned

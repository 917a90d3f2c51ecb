from django import forms

from inventory import reasons
from inventory.kinds import movement_kind
from inventory.models import MAX_ON_HAND, StockMovement, StockRecord
from inventory.services import StockChange, stock_adjust, stock_set
from techparts.actors import Actor


class StockCorrectionForm(forms.Form):
    """A clerk's audited correction: a new count or a signed adjustment, always with a reason."""

    new_on_hand = forms.IntegerField(
        label="New on-hand count",
        required=False,
        min_value=0,
        max_value=MAX_ON_HAND,
        help_text="The number of units counted on the shelf.",
    )
    adjustment = forms.IntegerField(
        label="Or adjust by",
        required=False,
        min_value=-MAX_ON_HAND,
        max_value=MAX_ON_HAND,
        help_text="A signed change instead of a count, e.g. -2 for two damaged units.",
    )
    reason_code = forms.ChoiceField(
        label="Reason",
        # The one set of reason codes (inventory.reasons), as the API takes them.
        choices=[("", "---------"), *reasons.caller_code_choices()],
    )
    note = forms.CharField(
        label="Note",
        required=False,
        max_length=200,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text="What happened (required for 'Other'); kept in the stock history.",
    )
    reference = forms.CharField(
        label="Reference",
        required=False,
        max_length=StockMovement._meta.get_field("reference").max_length,
        help_text="Optional delivery note, count sheet or other document number.",
    )
    # The count the clerk saw: a count entered against a stale page is refused, not applied.
    expected_on_hand = forms.IntegerField(widget=forms.HiddenInput, min_value=0)

    def __init__(self, *args, record: StockRecord, **kwargs) -> None:
        kwargs.setdefault("initial", {}).setdefault("expected_on_hand", record.on_hand)
        super().__init__(*args, **kwargs)
        self.record = record

    def clean(self):
        data = super().clean()
        new_on_hand, adjustment = data.get("new_on_hand"), data.get("adjustment")
        if self.has_error("new_on_hand") or self.has_error("adjustment"):
            return data
        if (new_on_hand is None) == (adjustment is None):
            raise forms.ValidationError(
                "Enter either a new on-hand count or an adjustment (not both)."
            )
        if adjustment == 0:
            self.add_error("adjustment", "An adjustment of 0 changes nothing.")
        expected = data.get("expected_on_hand")
        if new_on_hand is not None and new_on_hand == expected:
            self.add_error("new_on_hand", f"On hand is already {expected}; nothing to correct.")
        if data.get("reason_code") == "other" and not data.get("note", "").strip():
            self.add_error("note", "Describe the reason when choosing 'Other'.")
        code = reasons.BY_CODE.get(data.get("reason_code"))
        if code and movement_kind(reasons.kind_of(code.value)).only_raises:
            rises = (adjustment or 0) > 0 or (
                new_on_hand is not None and expected is not None and new_on_hand > expected
            )
            if not rises:
                self.add_error(
                    "reason_code",
                    f"'{code.label}' records a delivery: it must raise the on-hand count.",
                )
        return data

    def save(self, *, actor: Actor) -> StockChange:
        """Apply the correction through the stock services (which may refuse it).

        A correction over a threshold of two-person approval is not applied: the answer
        carries the pending request (`approval_request`), a decrease's units held meanwhile.
        """
        common = {
            "product_id": self.record.product_id,
            "actor": actor,
            "approvals": True,
            # The code has its own ledger column; the note is the free reason text.
            "reason": self.cleaned_data["note"].strip(),
            "reason_code": self.cleaned_data["reason_code"],
            "reference": self.cleaned_data["reference"].strip(),
        }
        if self.cleaned_data["new_on_hand"] is not None:
            return stock_set(
                quantity=self.cleaned_data["new_on_hand"],
                expected_quantity=self.cleaned_data["expected_on_hand"],
                **common,
            )
        return stock_adjust(delta=self.cleaned_data["adjustment"], **common)

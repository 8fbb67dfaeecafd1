"""Forms of the billing pages: shipments and payments. Orders and invoices themselves are made by
the services from a quote or an order; their lines are frozen, so there is no line form."""

from django import forms
from django.utils.translation import gettext_lazy as _

from sales.models import PaymentMethod, Shipment

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ShipmentForm(forms.ModelForm):
    class Meta:
        model = Shipment
        fields = ["shipped_on", "carrier", "tracking_number", "note"]
        widgets = {"shipped_on": DATE_INPUT}


class PaymentForm(forms.Form):
    amount = forms.DecimalField(label=_("Amount"), max_digits=16, decimal_places=3, min_value=0)
    paid_on = forms.DateField(label=_("Paid on"), widget=DATE_INPUT)
    method = forms.ChoiceField(label=_("Method"), choices=PaymentMethod.choices, initial=PaymentMethod.BANK_TRANSFER)
    reference = forms.CharField(label=_("Reference"), max_length=100, required=False)
    # The invoice version the form was shown with: the same form posted twice records one payment.
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

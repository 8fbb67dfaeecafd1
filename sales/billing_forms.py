"""Forms of the billing pages: shipments, payments and an order entered directly. Orders from quotes and
invoices are made by the services from a quote or an order; their lines are frozen."""

from decimal import Decimal

from django import forms
from django.conf import settings
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Account
from crm.widgets import use_autocomplete
from sales.models import PaymentMethod, PriceBook, Product, Shipment, two_decimal_currency

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ShipmentForm(forms.ModelForm):
    class Meta:
        model = Shipment
        fields = ["shipped_on", "carrier", "tracking_number", "note"]
        widgets = {"shipped_on": DATE_INPUT}


class PromiseForm(forms.Form):
    """The delivery date promised to the customer, set or changed on the order page (empty clears it)."""

    promised_on = forms.DateField(label=_("Promised delivery date"), widget=DATE_INPUT, required=False)
    # The order version the form was shown with: a change made meanwhile is not overwritten.
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class PaymentForm(forms.Form):
    amount = forms.DecimalField(label=_("Amount"), max_digits=16, decimal_places=3, min_value=0)
    paid_on = forms.DateField(label=_("Paid on"), widget=DATE_INPUT)
    method = forms.ChoiceField(label=_("Method"), choices=PaymentMethod.choices, initial=PaymentMethod.BANK_TRANSFER)
    reference = forms.CharField(label=_("Reference"), max_length=100, required=False)
    # The invoice version the form was shown with: the same form posted twice records one payment.
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class DirectOrderForm(forms.Form):
    """An order entered directly (phone or walk-in), without a quote."""

    account = forms.ModelChoiceField(label=_("Customer"), queryset=Account.objects.none())
    currency = forms.CharField(label=_("Currency"), max_length=3, initial=settings.DEFAULT_CURRENCY,
                               widget=forms.TextInput(attrs={"maxlength": 3, "class": "text-uppercase"}))
    price_book = forms.ModelChoiceField(label=_("Price book"), queryset=PriceBook.objects.none(), required=False,
                                        empty_label=_("Products' own prices"))
    ordered_on = forms.DateField(label=_("Order date"), widget=DATE_INPUT, initial=timezone.localdate)
    promised_on = forms.DateField(label=_("Promised delivery date"), widget=DATE_INPUT, required=False,
                                  help_text=_("The day the customer was promised; shipments after it count as "
                                              "late."))
    shipping_address = forms.CharField(label=_("Shipping address"), required=False,
                                       widget=forms.Textarea(attrs={"rows": 2}),
                                       help_text=_("Empty: the customer's shipping (or billing) address."))
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = Account.objects.visible_to(user).only("id", "name")
        use_autocomplete(self.fields["account"], reverse_lazy("autocomplete_accounts"))
        self.fields["price_book"].queryset = PriceBook.objects.visible_to(user).active().order_by("name")

    def clean_currency(self):
        currency = self.cleaned_data["currency"].strip().upper()
        if len(currency) != 3 or not currency.isalpha():
            raise forms.ValidationError(_("Use a three-letter ISO code such as EUR or USD."))
        two_decimal_currency(currency)
        return currency


class DirectOrderLineForm(forms.Form):
    product = forms.ModelChoiceField(label=_("Product"), queryset=Product.objects.none(), required=False)
    name = forms.CharField(label=_("Item"), max_length=200, required=False)
    quantity = forms.DecimalField(label=_("Quantity"), max_digits=12, decimal_places=3, min_value=Decimal("0.001"),
                                  required=False)
    # No help text per row: the paragraph above the lines says what an empty price or tax means.
    unit_price = forms.DecimalField(label=_("Unit price"), max_digits=16, decimal_places=2, min_value=0,
                                    required=False)
    discount_pct = forms.DecimalField(label=_("Discount, %"), max_digits=5, decimal_places=2, min_value=0,
                                      max_value=100, required=False)
    tax_rate = forms.DecimalField(label=_("Tax, %"), max_digits=5, decimal_places=2, min_value=0, max_value=100,
                                  required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = Product.objects.active()
        use_autocomplete(self.fields["product"], reverse_lazy("sales:product_autocomplete"))

    def line(self) -> dict | None:
        """The line's fields for the service; None for a row left empty."""
        data = self.cleaned_data
        if not data or not (data.get("product") or data.get("name") or data.get("unit_price") is not None):
            return None
        return {"product": data.get("product"), "name": data.get("name"),
                "quantity": data.get("quantity") or Decimal(1), "unit_price": data.get("unit_price"),
                "discount_pct": data.get("discount_pct"), "tax_rate": data.get("tax_rate")}


DirectOrderLineFormSet = forms.formset_factory(DirectOrderLineForm, extra=5, max_num=50, validate_max=True)

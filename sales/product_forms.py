"""Forms and list filters of the product catalogue, price books, exchange rates and opportunity lines."""

import re
from decimal import Decimal

import django_filters
from django import forms
from django.core.validators import MinValueValidator
from django.db.models import Q
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from crm.widgets import AutocompleteSelect
from sales.models import (
    MONEY,
    PERCENT,
    QUANTITY,
    CurrencyRate,
    OpportunityLine,
    PriceBook,
    PriceBookKind,
    Product,
)
from sales.product_services import ALLOWED_EXTENSIONS, MAX_DOCUMENT_BYTES

CURRENCY = re.compile(r"^[A-Z]{3}$")
DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ProductPicker(AutocompleteSelect):
    """The product picker: a search-as-you-type select over sales:product_autocomplete, run by
    static/crm/product_picker.js (which also fills price, unit and tax from the chosen product)."""

    def __init__(self, attrs=None):
        super().__init__(url=reverse_lazy("sales:product_autocomplete"), attrs=attrs)
        self.attrs["data-product-picker-url"] = self.attrs.pop("data-autocomplete-url")


def use_product_picker(field: forms.ModelChoiceField) -> None:
    field.widget = ProductPicker()
    field.widget.choices = field.choices


def clean_currency(value: str) -> str:
    value = (value or "").strip().upper()
    if not CURRENCY.match(value):
        raise forms.ValidationError(_("Use a three-letter ISO 4217 code, e.g. EUR, USD, GBP."))
    return value


# --- Products ---------------------------------------------------------------------------


class ProductForm(forms.ModelForm):
    class Meta:
        model = Product
        fields = ["sku", "name", "family", "unit", "default_price", "currency", "tax_rate", "active", "is_new",
                  "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 6}),
                   "family": forms.TextInput(attrs={"list": "product-families"})}
        help_texts = {"description": _("What a rep tells the customer: what it is, what it does, what it needs."),
                      "family": _("A product line or category, e.g. Software, Hardware, Services.")}

    def clean_sku(self):
        return self.cleaned_data["sku"].strip()

    def clean_currency(self):
        return clean_currency(self.cleaned_data.get("currency"))

    def model_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class DocumentUploadForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200, required=False,
                            help_text=_("Leave empty to use the file name."))
    file = forms.FileField(label=_("File"), help_text=_("%(types)s, up to %(mb)s MB.")
                           % {"types": ALLOWED_EXTENSIONS, "mb": MAX_DOCUMENT_BYTES // 1024 // 1024})


STATUS_CHOICES = [("inactive", _("Inactive only")), ("all", _("Active and inactive"))]


class ProductFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("SKU or name"), method="search")
    family = django_filters.ChoiceFilter(label=_("Family"), choices=[], empty_label=_("Any family"))
    status = django_filters.ChoiceFilter(label=_("Status"), choices=STATUS_CHOICES, empty_label=_("Active only"),
                                         method="by_status")

    class Meta:
        model = Product
        fields = []

    def __init__(self, data=None, *args, **kwargs):
        super().__init__(data, *args, **kwargs)
        families = (Product.objects.filter(deleted_at__isnull=True).exclude(family="")
                    .order_by("family").values_list("family", flat=True).distinct())
        self.filters["family"].extra["choices"] = [(family, family) for family in families]

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if not self.form.cleaned_data.get("status"):
            queryset = queryset.filter(active=True)  # the default: what can be sold
        return queryset

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(sku__istartswith=value) | Q(name__icontains=value))

    def by_status(self, queryset, name, value):
        if value == "inactive":
            return queryset.filter(active=False)
        return queryset


# --- Price books ------------------------------------------------------------------------


class PriceBookForm(forms.ModelForm):
    class Meta:
        model = PriceBook
        fields = ["name", "kind", "currency", "valid_from", "valid_until", "active", "description"]
        widgets = {"valid_from": DATE_INPUT, "valid_until": DATE_INPUT}

    def clean_currency(self):
        return clean_currency(self.cleaned_data.get("currency"))

    def clean(self):
        data = super().clean()
        start, end = data.get("valid_from"), data.get("valid_until")
        if start and end and end < start:
            self.add_error("valid_until", _("The price book cannot end before it starts."))
        return data

    def model_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class PriceBookEntryForm(forms.Form):
    product = forms.ModelChoiceField(label=_("Product"), queryset=Product.objects.none())
    unit_price = forms.DecimalField(label=_("Unit price"), min_value=Decimal(0), required=False,
                                    max_digits=MONEY["max_digits"], decimal_places=MONEY["decimal_places"],
                                    help_text=_("Empty: the product's default price."))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = Product.objects.visible_to(user)
        use_product_picker(self.fields["product"])


class EntryPriceForm(forms.Form):
    unit_price = forms.DecimalField(label=_("Unit price"), min_value=Decimal(0), max_digits=MONEY["max_digits"],
                                    decimal_places=MONEY["decimal_places"])


class CurrencyRateForm(forms.Form):
    currency = forms.CharField(label=_("Currency"), max_length=3)
    rate = forms.DecimalField(label=_("Value of one unit in the default currency"), max_digits=18, decimal_places=8,
                              validators=[MinValueValidator(Decimal("0.00000001"))])

    def clean_currency(self):
        return clean_currency(self.cleaned_data.get("currency"))


class CurrencyRateEditForm(forms.ModelForm):
    class Meta:
        model = CurrencyRate
        fields = ["rate"]


# --- Opportunity lines -------------------------------------------------------------------


def _decimal(label, spec, *, required=True, **kwargs):
    return forms.DecimalField(label=label, required=required, max_digits=spec["max_digits"],
                              decimal_places=spec["decimal_places"], **kwargs)


class OpportunityLineAddForm(forms.Form):
    """A product on the deal: picked with the product picker; price and tax come from the chosen
    price book / the product unless typed."""

    price_book = forms.ModelChoiceField(label=_("Price book"), queryset=PriceBook.objects.none(), required=False,
                                        empty_label=_("Default prices"))
    product = forms.ModelChoiceField(label=_("Product"), queryset=Product.objects.none(),
                                     error_messages={"invalid_choice": _("Choose an active product from the list.")})
    quantity = _decimal(_("Quantity"), QUANTITY, min_value=Decimal("0.001"), initial=Decimal(1))
    unit_price = _decimal(_("Unit price"), MONEY, required=False, min_value=Decimal(0),
                          help_text=_("Empty: from the price book."))
    discount_pct = _decimal(_("Discount, %"), PERCENT, required=False, min_value=Decimal(0), max_value=Decimal(100),
                            initial=Decimal(0))
    tax_rate = _decimal(_("Tax, %"), PERCENT, required=False, min_value=Decimal(0), max_value=Decimal(100),
                        help_text=_("Empty: the product's rate."))

    def __init__(self, *args, user, opportunity, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["price_book"].queryset = (PriceBook.objects.visible_to(user).active()
                                              .filter(currency=opportunity.currency).order_by("name"))
        self.fields["product"].queryset = Product.objects.visible_to(user).active()
        use_product_picker(self.fields["product"])
        if not self.is_bound:
            standard = self.fields["price_book"].queryset.filter(kind=PriceBookKind.STANDARD).first()
            self.initial.setdefault("price_book", standard.pk if standard else None)

    def service_fields(self) -> dict:
        data = self.cleaned_data
        return {"product": data["product"], "price_book": data.get("price_book"), "quantity": data["quantity"],
                "unit_price": data.get("unit_price"), "discount_pct": data.get("discount_pct") or Decimal(0),
                "tax_rate": data.get("tax_rate")}


class OpportunityLineEditForm(forms.ModelForm):
    class Meta:
        model = OpportunityLine
        fields = ["quantity", "unit_price", "discount_pct", "tax_rate", "description"]

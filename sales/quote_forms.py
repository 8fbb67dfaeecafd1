"""Forms of the quote pages: header, lines, sending, approval decisions and the admin pages
(discount thresholds, company profile and document templates)."""

import io
from decimal import Decimal

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.template import TemplateSyntaxError
from django.urls import NoReverseMatch, reverse, reverse_lazy
from django.utils.translation import gettext_lazy as _

from accounts.models import Account
from contacts.models import Contact
from crm.models import Role, User
from crm.visibility import assignable_owners
from crm.widgets import AutocompleteSelect, use_autocomplete
from sales.forms import require_version
from sales.models import CompanyProfile, PriceBook, Product, Quote, QuoteLine
from sales.pdf import check_template_source

LOGO_MAX_BYTES = 1024 * 1024
PERCENT_VALIDATORS = [MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))]


def product_autocomplete_url() -> str | None:
    """The products engineer's picker, when it is there (the line form works without it)."""
    try:
        return reverse("sales:product_autocomplete")
    except NoReverseMatch:
        return None


class QuoteForm(forms.ModelForm):
    """The header of a quote. `version` is the lock_version the page was rendered with."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Quote
        fields = ["title", "account", "contact", "currency", "price_book", "discount_pct", "issue_date",
                  "valid_until", "owner", "shared_with_team", "notes", "terms"]
        widgets = {
            "issue_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "valid_until": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "notes": forms.Textarea(attrs={"rows": 2}),
            "terms": forms.Textarea(attrs={"rows": 3}),
            "currency": forms.TextInput(attrs={"maxlength": 3, "class": "text-uppercase"}),
        }

    def __init__(self, *args, user: User, opportunity=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.opportunity = opportunity
        self.fields["account"].queryset = Account.objects.visible_to(user).only("id", "name")
        use_autocomplete(self.fields["account"], reverse_lazy("autocomplete_accounts"))
        self.fields["contact"].queryset = Contact.objects.visible_to(user)
        use_autocomplete(self.fields["contact"], reverse_lazy("autocomplete_contacts"))
        self.fields["price_book"].queryset = PriceBook.objects.filter(active=True)
        owners = assignable_owners(user)
        if self.instance.pk:
            owners = owners | User.objects.filter(pk=self.instance.owner_id)
        self.fields["owner"].queryset = owners.distinct().order_by("first_name", "email")
        self.fields["owner"].required = False
        self.fields["owner"].help_text = _("Leave empty to keep the deal owner (or yourself).")
        if self.instance.pk:
            del self.fields["account"]  # a quote stays with its customer; make a new one for another
            self.fields["version"].initial = self.instance.lock_version
            self.fields["owner"].required = True
        elif opportunity is not None:
            del self.fields["account"]
            del self.fields["currency"]
        if not self.instance.pk:
            for name in ("issue_date", "valid_until", "terms"):
                self.fields.pop(name, None)  # set from the company profile on creation

    def clean_currency(self):
        currency = self.cleaned_data["currency"].strip().upper()
        if len(currency) != 3 or not currency.isalpha():
            raise forms.ValidationError(_("Use a three-letter ISO code such as EUR or USD."))
        return currency

    def clean(self):
        cleaned = super().clean()
        require_version(self, "version")
        contact = cleaned.get("contact")
        account = cleaned.get("account") or (self.opportunity.account if self.opportunity else self.instance.account
                                             if self.instance.pk else None)
        if contact and account and contact.account_id != account.pk:
            self.add_error("contact", _("This contact belongs to another account."))
        return cleaned

    def _post_clean(self):
        # The services validate the whole quote (number, totals …); the form only checks its fields.
        pass

    def model_fields(self) -> dict:
        data = {name: self.cleaned_data[name] for name in self.fields if name != "version"}
        if not data.get("owner"):
            data.pop("owner", None)
        return data


class ProductSelect(AutocompleteSelect):
    """The product picker: static/crm/quotes.js asks the product autocomplete (with the quote's price
    book) and fills the line's name, unit, price and tax from the answer."""

    def __init__(self, url: str, price_book_id: int | None):
        super().__init__(url=url)
        self.attrs.pop("data-autocomplete-url")  # not the generic picker: quotes.js drives this one
        self.attrs["data-product-url"] = url
        if price_book_id:
            self.attrs["data-price-book"] = str(price_book_id)


class QuoteLineForm(forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = QuoteLine
        fields = ["product", "name", "description", "quantity", "unit", "unit_price", "discount_pct", "tax_rate"]

    def __init__(self, *args, quote: Quote, **kwargs):
        super().__init__(*args, **kwargs)
        self.quote = quote
        self.fields["version"].initial = quote.lock_version
        self.fields["product"].queryset = Product.objects.filter(active=True, deleted_at__isnull=True)
        url = product_autocomplete_url()
        if url:
            self.fields["product"].widget = ProductSelect(url, quote.price_book_id)
            self.fields["product"].widget.choices = self.fields["product"].choices
            self.fields["product"].required = False
        else:
            del self.fields["product"]
        for name in ("name", "unit_price", "tax_rate", "discount_pct"):
            self.fields[name].required = False
        self.fields["unit_price"].help_text = _("Empty: the product's price (from the quote's price book).")

    def clean(self):
        cleaned = super().clean()
        product = cleaned.get("product")
        if not product:
            if not cleaned.get("name"):
                self.add_error("name", _("Name the item, or pick a product."))
            if cleaned.get("unit_price") is None and "unit_price" not in self.errors:
                self.add_error("unit_price", _("Give the unit price, or pick a product."))
        return cleaned

    def _post_clean(self):
        pass  # the service fills a product's defaults, then validates the line

    def line_fields(self) -> dict:
        fields = {name: self.cleaned_data.get(name) for name in self.Meta.fields if name in self.fields}
        for name in ("description", "unit"):
            fields[name] = fields.get(name) or ""
        if fields.get("discount_pct") is None:
            fields["discount_pct"] = Decimal(0)
        return fields


class QuoteSendForm(forms.Form):
    to = forms.CharField(label=_("To"), max_length=500,
                         help_text=_("One or more e-mail addresses, separated by commas."))
    subject = forms.CharField(label=_("Subject"), max_length=200)
    message = forms.CharField(label=_("Message"), widget=forms.Textarea(attrs={"rows": 8}), max_length=10000)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def clean_to(self):
        from django.core.validators import validate_email

        addresses = [part.strip() for part in self.cleaned_data["to"].replace(";", ",").split(",") if part.strip()]
        if not addresses:
            raise forms.ValidationError(_("Give at least one e-mail address."))
        for address in addresses:
            try:
                validate_email(address)
            except forms.ValidationError:
                raise forms.ValidationError(_("“%(value)s” is not a valid e-mail address."),
                                            params={"value": address}) from None
        return addresses[:10]


class ApprovalDecisionForm(forms.Form):
    comment = forms.CharField(label=_("Comment"), max_length=500, required=False,
                              widget=forms.Textarea(attrs={"rows": 2}))


class DiscountThresholdsForm(forms.Form):
    """One field per role: the largest discount without approval; empty = the default."""

    def __init__(self, *args, current: dict[str, Decimal], defaults: dict[str, Decimal | None], **kwargs):
        super().__init__(*args, **kwargs)
        for role, label in Role.choices:
            default = defaults[role]
            self.fields[role] = forms.DecimalField(
                label=label, required=False, max_digits=5, decimal_places=2, validators=PERCENT_VALIDATORS,
                initial=current.get(role),
                help_text=_("Empty: no limit") if default is None else _("Empty: %(pct)s%%") % {"pct": default})

    def limits(self) -> dict[str, Decimal | None]:
        return {role: self.cleaned_data.get(role) for role, _label in Role.choices}


class CompanyProfileForm(forms.ModelForm):
    remove_logo = forms.BooleanField(label=_("Remove the logo"), required=False)

    class Meta:
        model = CompanyProfile
        fields = ["name", "legal_details", "bank_details", "email", "phone", "logo", "default_quote_terms",
                  "quote_validity_days", "invoice_due_days", "quote_template", "invoice_template"]
        widgets = {
            "legal_details": forms.Textarea(attrs={"rows": 3}),
            "bank_details": forms.Textarea(attrs={"rows": 3}),
            "default_quote_terms": forms.Textarea(attrs={"rows": 3}),
            "quote_template": forms.Textarea(attrs={"rows": 14, "class": "font-monospace", "spellcheck": "false"}),
            "invoice_template": forms.Textarea(attrs={"rows": 14, "class": "font-monospace",
                                                      "spellcheck": "false"}),
            "logo": forms.FileInput(attrs={"accept": "image/png,image/jpeg"}),
        }

    def clean_logo(self):
        logo = self.cleaned_data.get("logo")
        if not logo or logo == self.instance.logo:
            return logo
        if logo.size > LOGO_MAX_BYTES:
            raise forms.ValidationError(_("The logo is larger than 1 MB."))
        kind = image_kind(logo)
        if kind is None:
            raise forms.ValidationError(_("The logo must be a PNG or JPEG image."))
        logo.name = f"logo.{kind}"
        return logo

    def _check_template(self, name: str) -> str:
        source = self.cleaned_data.get(name, "")
        if source.strip():
            try:
                check_template_source(source)
            except TemplateSyntaxError as error:
                raise forms.ValidationError(_("The template has an error: %(error)s"),
                                            params={"error": error}) from None
        return source

    def clean_quote_template(self):
        return self._check_template("quote_template")

    def clean_invoice_template(self):
        return self._check_template("invoice_template")


def image_kind(upload) -> str | None:
    """"png" or "jpeg" when the file really is such an image (by its content, not its name)."""
    from PIL import Image, UnidentifiedImageError

    upload.seek(0)
    head = upload.read(8)
    upload.seek(0)
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        expected = "PNG"
    elif head.startswith(b"\xff\xd8\xff"):
        expected = "JPEG"
    else:
        return None
    try:
        with Image.open(io.BytesIO(upload.read())) as image:
            image.verify()
            found = image.format
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return None
    finally:
        upload.seek(0)
    return {"PNG": "png", "JPEG": "jpeg"}[expected] if found == expected else None


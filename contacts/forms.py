from django import forms
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.models import Account
from contacts.models import Contact, PointKind
from crm.custom_fields import OwnedRecordFormMixin
from crm.fields import KindedEmailField, KindedPhoneField, TagsField
from crm.models import CustomFieldTarget, User
from crm.phones import example_phone, phone_region, region_for_country
from crm.widgets import use_autocomplete


class ContactForm(OwnedRecordFormMixin, forms.ModelForm):
    custom_target = CustomFieldTarget.CONTACT
    emails = KindedEmailField(label=_("E-mails"), required=False,
                              help_text=_("One per line; what it is for may follow in brackets: (work), (home)."))
    phones = KindedPhoneField(label=_("Phones"), required=False,
                              help_text=_("Any format, one per line; what it is for may follow in brackets: "
                                          "(mobile), (work), (home), (fax)."))
    tags = TagsField(label=_("Tags"), required=False, help_text=_("Comma-separated."))
    phones_to_check = TagsField(
        label=_("Numbers to check"), required=False,
        help_text=_("Kept as written because they are not valid numbers: type them correctly under Phones, "
                    "then remove them here."))
    confirm_duplicates = forms.BooleanField(
        label=_("I checked the possible duplicates: save anyway"), required=False
    )

    class Meta:
        model = Contact
        fields = [
            "first_name", "middle_name", "last_name", "title", "department", "account", "emails", "phones",
            "phones_to_check", "website",
            "preferred_channel", "birthday", "lead_source", "tags", "address", "city", "region", "postal_code",
            "country", "description", "owner",
            "shared_with_team", "email_opt_in", "email_opt_in_source", "email_opt_in_wording", "do_not_call",
        ]
        widgets = {
            "birthday": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "address": forms.Textarea(attrs={"rows": 2}),
            "description": forms.Textarea(attrs={"rows": 3}),
            "email_opt_in_wording": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        # Visible accounts only: a forged id of a hidden account fails like a missing one.
        self.fields["account"].queryset = Account.objects.visible_to(user)
        use_autocomplete(self.fields["account"], reverse_lazy("autocomplete_accounts"))
        self.setup_owned_fields(user)
        self.fields["phones"].setup_kinds(PointKind.choices, self.instance.phone_kinds)
        self.fields["emails"].setup_kinds([(k, label) for k, label in PointKind.choices if k != PointKind.MOBILE],
                                          self.instance.email_kinds)
        self.fields["phones"].region = phone_region(user, self._account_country())
        self.fields["phones"].widget.attrs["placeholder"] = example_phone(self.fields["phones"].region)
        if not self.instance.phones_to_check:
            del self.fields["phones_to_check"]  # only numbers an import kept unread are shown for review

    # The form in sections, in the order a person fills it in; custom fields join "More about them".
    # The consent details are shown only once consent is ticked (static/crm/app.js, data-revealed-by).
    SECTIONS = (
        ("person", pgettext_lazy("contact form section", "Person"),
         ("first_name", "middle_name", "last_name", "birthday")),
        ("work", _("Work"), ("account", "title", "department")),
        ("reach", _("Phones and e-mails"), ("phones", "emails", "phones_to_check", "website", "preferred_channel",
                                            "do_not_call")),
        ("address", pgettext_lazy("contact form section", "Address"),
         ("address", "city", "region", "postal_code", "country")),
        ("more", _("More about them"), ("lead_source", "tags", "description")),
        ("consent", _("Marketing consent"), ("email_opt_in", "email_opt_in_source", "email_opt_in_wording")),
        ("ownership", pgettext_lazy("contact form section", "Owner and team"), ("owner", "shared_with_team")),
    )
    WIDE = frozenset({"address", "description", "email_opt_in_wording", "emails", "phones"})
    REVEALED_BY = {"email_opt_in_source": "email_opt_in", "email_opt_in_wording": "email_opt_in"}

    def sections(self) -> list[tuple[str, str, list]]:
        """(key, title, bound fields) per section; every field of the form is in exactly one."""
        placed = {name for _key, _title, names in self.SECTIONS for name in names} | {"confirm_duplicates"}
        extra = [name for name in self.fields if name not in placed]
        out = []
        for key, title, names in self.SECTIONS:
            names = [*names, *extra] if key == "more" else names
            fields = [self[name] for name in names if name in self.fields]
            for bound in fields:
                bound.wide = bound.name in self.WIDE
                revealed_by = self.REVEALED_BY.get(bound.name)
                bound.revealed_by = self[revealed_by].id_for_label if revealed_by else ""
            if fields:
                out.append((key, str(title), fields))
        return out

    def model_fields(self) -> dict:
        data = super().model_fields()
        data["phone_kinds"], data["email_kinds"] = self.fields["phones"].kinds, self.fields["emails"].kinds
        return data

    def _account_country(self) -> str:
        """The contact's own country (as typed into the form, else stored), else the country of the account
        they work for: a number without a country code is read as that country's."""
        own = self.data.get(self.add_prefix("country"), "") if self.is_bound else self.instance.country
        if region_for_country((own or "").strip()):
            return own.strip()
        account_id = self.data.get(self.add_prefix("account")) if self.is_bound else None
        if account_id is None:
            account_id = self.instance.account_id
        if not str(account_id or "").isdigit():
            return ""
        return self.fields["account"].queryset.filter(pk=account_id).values_list("country", flat=True).first() or ""

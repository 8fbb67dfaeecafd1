from django import forms
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from accounts.models import Account
from crm.custom_fields import OwnedRecordFormMixin
from crm.fields import TagsField
from crm.models import CustomFieldTarget, User
from crm.phones import example_phone, international, invalid_phone_message, normalize_phone, phone_region
from crm.widgets import use_autocomplete


class AccountForm(OwnedRecordFormMixin, forms.ModelForm):
    custom_target = CustomFieldTarget.ACCOUNT
    tags = TagsField(label=_("Tags"), required=False, help_text=_("Comma-separated."))
    confirm_duplicates = forms.BooleanField(
        label=_("I checked the possible duplicates: save anyway"), required=False
    )

    class Meta:
        model = Account
        fields = [
            "name", "legal_name", "type", "industry", "is_vip", "tier", "tax_number", "parent", "territory",
            "phone", "email", "website", "country", "city", "address", "shipping_address", "annual_revenue",
            "employees", "lead_source", "tags", "owner", "shared_with_team", "description",
        ]
        widgets = {"address": forms.Textarea(attrs={"rows": 2}), "shipping_address": forms.Textarea(attrs={"rows": 2}),
                   "description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        # Choices go through the visibility policy: a forged id of a hidden account is rejected.
        parents = Account.objects.visible_to(user).only("id", "name")
        if self.instance.pk:
            parents = parents.exclude(pk=self.instance.pk)
        self.fields["parent"].queryset = parents
        use_autocomplete(self.fields["parent"], reverse_lazy("autocomplete_accounts"))
        self.setup_owned_fields(user)
        self.fields["phone"].widget.attrs["placeholder"] = example_phone(phone_region(user, self.instance.country))

    def clean_parent(self):
        parent = self.cleaned_data.get("parent")
        if parent and self.instance.pk:
            below = {row[0] for row in Account.objects.subtree(self.instance.pk)}
            if parent.pk in below:
                raise forms.ValidationError(_("An account cannot belong to itself or to one of its subsidiaries."))
        return parent

    def clean_phone(self):
        """Read in the country typed into the form (else the record's, else the user's) and kept in
        international format, so every later reader gets the same number."""
        phone = self.cleaned_data.get("phone", "").strip()
        if not phone:
            return phone
        country = self.data.get(self.add_prefix("country"), self.instance.country) if self.is_bound \
            else self.instance.country
        region = phone_region(self.user, country)
        if normalize_phone(phone, region) is None:
            raise forms.ValidationError(invalid_phone_message(phone, region))
        return international(phone, region)

from django import forms
from django.db.models import Q
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from accounts.models import Account
from crm.custom_fields import CustomFieldsFormMixin
from crm.fields import TagsField
from crm.models import CustomFieldTarget, User
from crm.phones import normalize_phone
from crm.widgets import AutocompleteSelect


class AccountForm(CustomFieldsFormMixin, forms.ModelForm):
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
        self.user = user
        # Choices go through the visibility policy: a forged id of a hidden account is rejected.
        parents = Account.objects.visible_to(user).only("id", "name")
        if self.instance.pk:
            parents = parents.exclude(pk=self.instance.pk)
        self.fields["parent"].queryset = parents
        self.fields["parent"].widget = AutocompleteSelect(url=reverse_lazy("autocomplete_accounts"))
        self.fields["parent"].widget.choices = self.fields["parent"].choices
        owners = assignable_owners(user)
        if self.instance.pk:
            owners = owners | User.objects.filter(pk=self.instance.owner_id)
        self.fields["owner"].queryset = owners.distinct()
        self.fields["owner"].required = False
        self.fields["owner"].help_text = _("Leave empty to own it yourself.")
        self.add_custom_fields()

    def model_fields(self) -> dict:
        data = self.pop_custom(dict(self.cleaned_data))
        data.pop("confirm_duplicates", None)
        data["custom"] = self.custom_values()
        return data

    def clean_parent(self):
        parent = self.cleaned_data.get("parent")
        if parent and self.instance.pk:
            below = {row[0] for row in Account.objects.subtree(self.instance.pk)}
            if parent.pk in below:
                raise forms.ValidationError(_("An account cannot belong to itself or to one of its subsidiaries."))
        return parent

    def clean_phone(self):
        phone = self.cleaned_data.get("phone", "").strip()
        if phone and normalize_phone(phone) is None:
            raise forms.ValidationError(
                _("“%(value)s” is not a valid phone number. Add the country code, e.g. +44 20 7946 0000."),
                params={"value": phone})
        return phone

    def clean_owner(self):
        owner = self.cleaned_data.get("owner")
        if owner is None:
            owner = self.instance.owner if self.instance.pk else self.user
        return owner


def assignable_owners(user: User):
    """Whom a user may hand a record to: admins anyone, managers their teams, reps themselves."""
    from crm.visibility import managed_team_ids

    active = User.objects.filter(is_active=True)
    if user.is_admin:
        return active
    team_ids = list(managed_team_ids(user))
    if team_ids:
        return active.filter(Q(team_id__in=team_ids) | Q(pk=user.pk))
    return active.filter(pk=user.pk)

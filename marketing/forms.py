from django import forms
from django.conf import settings
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from contacts.models import Contact
from crm.models import User
from crm.visibility import assignable_owners
from crm.widgets import use_autocomplete
from marketing.models import Campaign, CampaignCost, MemberStatus

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
MAX_PARENT_DEPTH = 12


class CampaignForm(forms.ModelForm):
    class Meta:
        model = Campaign
        fields = ["name", "type", "status", "start_date", "end_date", "currency", "budget", "expected_revenue",
                  "parent", "owner", "shared_with_team", "description"]
        widgets = {"start_date": DATE_INPUT, "end_date": DATE_INPUT,
                   "currency": forms.TextInput(attrs={"maxlength": 3, "class": "text-uppercase"}),
                   "description": forms.Textarea(attrs={"rows": 3})}
        help_texts = {"currency": _("Three-letter ISO code, e.g. EUR, USD, RUB. Budget, costs and expected "
                                    "revenue are in this currency."),
                      "parent": _("A campaign can be part of a larger one (a webinar within a product launch).")}

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        parents = Campaign.objects.visible_to(user).only("id", "name")
        if self.instance.pk:
            parents = parents.exclude(pk=self.instance.pk)
        self.fields["parent"].queryset = parents.order_by("name", "id")
        owners = assignable_owners(user)
        if self.instance.pk:
            owners = owners | User.objects.filter(pk=self.instance.owner_id)
        self.fields["owner"].queryset = owners.distinct()
        self.fields["owner"].required = False
        self.fields["owner"].help_text = _("Leave empty to own it yourself.")
        if not self.instance.pk:
            self.fields["currency"].initial = settings.DEFAULT_CURRENCY

    def clean_owner(self):
        owner = self.cleaned_data.get("owner")
        if owner is None:
            owner = self.instance.owner if self.instance.pk else self.user
        return owner

    def clean_currency(self):
        currency = self.cleaned_data["currency"].strip().upper()
        if len(currency) != 3 or not currency.isalpha():
            raise forms.ValidationError(_("Use a three-letter currency code such as EUR."))
        return currency

    def clean_parent(self):
        parent = self.cleaned_data.get("parent")
        if parent and self.instance.pk:
            # Walk up from the chosen parent: meeting this campaign would close a loop.
            node, depth = parent, 0
            while node is not None and depth < MAX_PARENT_DEPTH:
                if node.pk == self.instance.pk:
                    raise forms.ValidationError(_("A campaign cannot be part of itself or of one of its own parts."))
                node = Campaign.objects.filter(pk=node.parent_id).only("id", "parent_id").first() \
                    if node.parent_id else None
                depth += 1
        return parent

    def clean(self):
        data = super().clean()
        start, end = data.get("start_date"), data.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", _("The campaign cannot end before it starts."))
        return data


class CostForm(forms.ModelForm):
    class Meta:
        model = CampaignCost
        fields = ["description", "amount", "incurred_on"]
        widgets = {"description": forms.TextInput(attrs={"class": "form-control form-control-sm"}),
                   "amount": forms.NumberInput(attrs={"class": "form-control form-control-sm", "step": "0.01",
                                                      "min": "0.01"}),
                   "incurred_on": forms.DateInput(attrs={"type": "date", "class": "form-control form-control-sm"},
                                                  format="%Y-%m-%d")}


class MemberAddForm(forms.Form):
    contact = forms.ModelChoiceField(label=_("Contact"), queryset=Contact.objects.none())
    status = forms.ChoiceField(label=_("Status"), choices=MemberStatus.choices, initial=MemberStatus.TARGETED,
                               widget=forms.Select(attrs={"class": "form-select form-select-sm"}))

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        # Only people the user may see can be added: a forged id of a hidden contact is refused.
        self.fields["contact"].queryset = Contact.objects.visible_to(user)
        use_autocomplete(self.fields["contact"], reverse_lazy("autocomplete_contacts"))


class MemberStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=MemberStatus.choices)


class AttributionForm(forms.Form):
    campaign = forms.ModelChoiceField(label=_("Source campaign"), queryset=Campaign.objects.none(), required=False,
                                      empty_label=_("(none)"))

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["campaign"].queryset = Campaign.objects.visible_to(user).order_by("name", "id")
        use_autocomplete(self.fields["campaign"], reverse_lazy("marketing:campaign_autocomplete"))

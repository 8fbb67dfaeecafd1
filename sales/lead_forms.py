import datetime
import re

from django import forms
from django.conf import settings
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Account
from contacts.models import Contact
from crm.custom_fields import OwnedRecordFormMixin
from crm.models import CustomFieldTarget, Team, Territory, User
from crm.phones import example_phone, international, invalid_phone_message, normalize_phone, phone_region
from crm.widgets import use_autocomplete
from sales.forms import require_version
from sales.models import DisqualifyReason, Lead, LeadAssignmentRule, LeadRuleMethod, LeadStatus


class LeadForm(OwnedRecordFormMixin, forms.ModelForm):
    custom_target = CustomFieldTarget.LEAD
    distribute = forms.BooleanField(
        label=_("Put it in the queue: assign it by the distribution rules"), required=False,
        help_text=_("Leave unticked to keep it (or give it to the owner chosen above)."))
    confirm_duplicates = forms.BooleanField(
        label=_("I checked the possible duplicates: save anyway"), required=False
    )
    # The version the person loaded: a save over a newer version is refused (optimistic locking).
    lock_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Lead
        fields = [
            "first_name", "last_name", "title", "company", "email", "phone", "website", "country", "city",
            "territory", "source", "rating", "description", "owner", "shared_with_team",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["territory"].queryset = Territory.objects.order_by("name")
        self.setup_owned_fields(user)
        self.fields["phone"].widget.attrs["placeholder"] = example_phone(phone_region(user, self.instance.country))
        if self.instance.pk:
            self.fields["lock_version"].initial = self.instance.lock_version
            del self.fields["distribute"]
            if self.instance.owner_id is None:
                self.fields["owner"].help_text = _("Empty: it stays in the queue.")

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

    def clean_email(self):
        return self.cleaned_data.get("email", "").strip().lower()

    def clean_owner(self):
        owner = self.cleaned_data.get("owner")
        if owner is None and self.instance.pk:
            return self.instance.owner  # may be None: a queued lead stays queued
        return owner or self.user

    def clean(self):
        data = super().clean()
        require_version(self, "lock_version")
        return data

    def model_fields(self) -> dict:
        data = super().model_fields()
        data.pop("lock_version", None)
        if data.pop("distribute", False):
            data["owner"] = None
        return data


class LeadStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=[
        (LeadStatus.NEW, LeadStatus.NEW.label), (LeadStatus.WORKING, LeadStatus.WORKING.label),
        (LeadStatus.QUALIFIED, LeadStatus.QUALIFIED.label), (LeadStatus.DISQUALIFIED, LeadStatus.DISQUALIFIED.label)],
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}))
    reason = forms.ChoiceField(label=_("Disqualified because"), choices=[("", "—"), *DisqualifyReason.choices],
                               required=False, widget=forms.Select(attrs={"class": "form-select form-select-sm"}))

    def clean(self):
        data = super().clean()
        if data.get("status") == LeadStatus.DISQUALIFIED and not data.get("reason"):
            self.add_error("reason", _("Say why the lead is disqualified."))
        return data


class LeadRuleForm(forms.ModelForm):
    class Meta:
        model = LeadAssignmentRule
        fields = ["name", "active", "source", "territory", "team", "method", "user"]
        help_texts = {
            "territory": _("Includes its sub-territories. Empty: any territory."),
            "source": _("Empty: any source."),
            "user": _("Only for “Always to one person”."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["territory"].queryset = Territory.objects.order_by("name")
        self.fields["team"].queryset = Team.objects.order_by("name")
        self.fields["user"].queryset = User.objects.filter(is_active=True).order_by("first_name", "last_name", "id")

    def clean(self):
        data = super().clean()
        if data.get("method") == LeadRuleMethod.USER and not data.get("user"):
            self.add_error("user", _("Choose the person who gets these leads."))
        if data.get("method") == LeadRuleMethod.ROUND_ROBIN:
            data["user"] = None
        return data


NEW, EXISTING = "new", "existing"
CURRENCY = re.compile(r"^[A-Z]{3}$")


class LeadConvertForm(forms.Form):
    account_mode = forms.ChoiceField(label=_("Account"), widget=forms.RadioSelect, initial=NEW, choices=[
        (NEW, _("Create a new account")), (EXISTING, _("Add to an existing account"))])
    account_name = forms.CharField(label=_("New account's name"), max_length=200, required=False)
    account = forms.ModelChoiceField(label=_("Existing account"), queryset=Account.objects.none(), required=False)
    contact_mode = forms.ChoiceField(label=_("Contact"), widget=forms.RadioSelect, initial=NEW, choices=[
        (NEW, _("Create a new contact from the lead")), (EXISTING, _("Use an existing contact of the account"))])
    contact = forms.ModelChoiceField(label=_("Existing contact"), queryset=Contact.objects.none(), required=False)
    create_opportunity = forms.BooleanField(label=_("Also create an opportunity"), required=False)
    opportunity_name = forms.CharField(label=_("Opportunity name"), max_length=200, required=False)
    stage = forms.ModelChoiceField(label=_("Pipeline and stage"), queryset=None, required=False)
    amount = forms.DecimalField(label=_("Amount"), max_digits=16, decimal_places=2, min_value=0, required=False)
    currency = forms.CharField(label=_("Currency"), max_length=3, required=False)
    expected_close_date = forms.DateField(label=_("Expected close date"), required=False,
                                          widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))

    def __init__(self, *args, user: User, lead: Lead, **kwargs):
        from sales.models import Stage, StageKind
        from sales.services import default_pipeline

        super().__init__(*args, **kwargs)
        self.user, self.lead = user, lead
        self.fields["account"].queryset = Account.objects.visible_to(user)
        use_autocomplete(self.fields["account"], reverse_lazy("autocomplete_accounts"))
        self.fields["contact"].queryset = Contact.objects.visible_to(user)
        use_autocomplete(self.fields["contact"], reverse_lazy("autocomplete_contacts"))
        stages = Stage.objects.filter(pipeline__active=True, active=True, kind=StageKind.OPEN).select_related(
            "pipeline").order_by("pipeline__position", "pipeline__name", "position", "id")
        self.fields["stage"].queryset = stages
        self.fields["stage"].label_from_instance = lambda stage: f"{stage.pipeline} › {stage}"
        pipeline = default_pipeline()
        first = next((s for s in stages if pipeline and s.pipeline_id == pipeline.pk), None)
        self.fields["stage"].initial = first.pk if first else None
        self.fields["account_name"].initial = lead.company or str(lead)
        self.fields["opportunity_name"].initial = lead.company or str(lead)
        self.fields["currency"].initial = settings.DEFAULT_CURRENCY
        self.fields["expected_close_date"].initial = timezone.localdate() + datetime.timedelta(days=30)

    def clean_currency(self):
        currency = (self.cleaned_data.get("currency") or settings.DEFAULT_CURRENCY).strip().upper()
        if not CURRENCY.match(currency):
            raise forms.ValidationError(_("Use a three-letter currency code such as EUR."))
        return currency

    def clean(self):
        data = super().clean()
        if data.get("account_mode") == EXISTING:
            if not data.get("account") and "account" not in self.errors:
                self.add_error("account", _("Choose the account, or create a new one."))
        else:
            data["account"] = None
            if not (data.get("account_name") or "").strip():
                self.add_error("account_name", _("Name the new account."))
        if data.get("contact_mode") == EXISTING:
            contact, account = data.get("contact"), data.get("account")
            if not contact and "contact" not in self.errors:
                self.add_error("contact", _("Choose the contact, or create a new one."))
            elif contact and (account is None or contact.account_id != account.pk):
                self.add_error("contact", _("Choose a contact of the chosen account."))
        else:
            data["contact"] = None
        if data.get("create_opportunity"):
            for name, message in (("opportunity_name", _("Name the opportunity.")),
                                  ("stage", _("Choose the pipeline and stage.")),
                                  ("expected_close_date", _("When do you expect to close it?"))):
                if not data.get(name) and name not in self.errors:
                    self.add_error(name, message)
        return data

    def opportunity_plan(self):
        from sales.lead_services import OpportunityPlan

        data = self.cleaned_data
        if not data.get("create_opportunity"):
            return None
        return OpportunityPlan(name=data["opportunity_name"].strip(), stage=data["stage"],
                               amount=data.get("amount") or 0, currency=data["currency"],
                               expected_close_date=data["expected_close_date"])

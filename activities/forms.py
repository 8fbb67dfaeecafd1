from django import forms
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from accounts.models import Account
from activities.models import Activity, ActivityKind
from contacts.models import Contact
from crm.models import User
from crm.visibility import assignable_owners
from crm.widgets import use_autocomplete

COMMON = ["subject", "account", "contact", "opportunity", "lead"]
FIELDS_BY_KIND = {
    ActivityKind.CALL: [*COMMON, "direction", "outcome", "occurred_at", "duration_minutes", "body"],
    ActivityKind.MEETING: [*COMMON, "occurred_at", "ends_at", "location", "attendees", "remind_minutes_before",
                           "body", "owner"],
    ActivityKind.TASK: [*COMMON, "occurred_at", "priority", "status", "remind_minutes_before", "body", "owner"],
    ActivityKind.NOTE: [*COMMON, "body"],
    ActivityKind.EMAIL: [*COMMON, "direction", "occurred_at", "body"],
}
LABELS = {
    ActivityKind.MEETING: {"occurred_at": _("Starts")},
    ActivityKind.TASK: {"occurred_at": _("Due")},
}
REMINDER_CHOICES = [("", _("No reminder")), (5, _("5 minutes before")), (15, _("15 minutes before")),
                    (30, _("30 minutes before")), (60, _("1 hour before")), (1440, _("1 day before"))]


class ActivityForm(forms.ModelForm):
    class Meta:
        model = Activity
        fields = sorted({field for fields in FIELDS_BY_KIND.values() for field in fields})
        widgets = {
            "occurred_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
            "ends_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
            "body": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args, user: User, kind: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.kind = kind
        for name in list(self.fields):
            if name not in FIELDS_BY_KIND[kind]:
                del self.fields[name]
        # Order the fields as listed for the kind.
        self.order_fields(FIELDS_BY_KIND[kind])
        for name, label in LABELS.get(kind, {}).items():
            if name in self.fields:
                self.fields[name].label = label
        accounts = Account.objects.visible_to(user)
        self.fields["account"].queryset = accounts
        use_autocomplete(self.fields["account"], reverse_lazy("autocomplete_accounts"))
        self.fields["contact"].queryset = Contact.objects.visible_to(user).select_related("account")
        use_autocomplete(self.fields["contact"], reverse_lazy("autocomplete_contacts"))
        # The deal or lead it is about arrives with the link (?opportunity= / ?lead=) and is kept as it is;
        # only visible ones validate, so a forged id fails like a missing one.
        from sales.models import Lead, Opportunity

        self.fields["opportunity"].queryset = Opportunity.objects.visible_to(user)
        self.fields["lead"].queryset = Lead.objects.visible_to(user)
        for name in ("opportunity", "lead"):
            self.fields[name].widget = forms.HiddenInput()
        if "attendees" in self.fields:
            self.fields["attendees"].queryset = User.objects.filter(is_active=True)
            self.fields["attendees"].widget.attrs["size"] = 5
        if "owner" in self.fields:
            owners = assignable_owners(user)
            if self.instance.pk:
                owners = owners | User.objects.filter(pk=self.instance.owner_id)
            self.fields["owner"].queryset = owners.distinct()
            self.fields["owner"].required = False
            self.fields["owner"].label = _("Assigned to")
        if "remind_minutes_before" in self.fields:
            self.fields["remind_minutes_before"] = forms.TypedChoiceField(
                label=_("Reminder"), choices=REMINDER_CHOICES, coerce=int, empty_value=None, required=False)
        if "body" in self.fields:
            self.fields["body"].help_text = _("Mention a colleague with @ and the part of their e-mail before the @, "
                                              "e.g. @anna.smith: they get a notification.")
        if kind == ActivityKind.MEETING:
            self.fields["ends_at"].required = False
        if "occurred_at" in self.fields:
            self.fields["occurred_at"].required = True

    def clean(self):
        data = super().clean()
        opportunity = data.get("opportunity")
        if opportunity and not data.get("account"):
            data["account"] = opportunity.account  # a deal's activity is also the account's
        if (not data.get("account") and not data.get("contact") and not data.get("lead")
                and self.kind != ActivityKind.TASK):
            raise forms.ValidationError(_("Link it to an account or a contact."))
        if opportunity and data.get("account") and opportunity.account_id != data["account"].pk:
            self.add_error("account", _("This deal belongs to another account."))
        contact, account = data.get("contact"), data.get("account")
        if contact and account and contact.account_id and contact.account_id != account.pk:
            self.add_error("contact", _("This contact belongs to another account."))
        starts, ends = data.get("occurred_at"), data.get("ends_at")
        if starts and ends and ends <= starts:
            self.add_error("ends_at", _("The end must be after the start."))
        if data.get("owner") is None and "owner" in self.fields:
            data["owner"] = self.instance.owner if self.instance.pk else self.user
        return data

    def service_fields(self) -> dict:
        data = dict(self.cleaned_data)
        return data

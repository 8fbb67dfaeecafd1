import datetime

from django import forms
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from accounts.models import Account, AccountTier
from contacts.models import Contact
from crm import richtext
from crm.custom_fields import CustomFieldsFormMixin
from crm.models import Team, User
from crm.roles import Role
from crm.widgets import use_autocomplete
from sales.models import Product
from service.models import (
    Article,
    ArticleCategory,
    BusinessCalendar,
    CannedResponse,
    Category,
    Contract,
    Entitlement,
    EscalationRule,
    EscalationTarget,
    Holiday,
    ImapMailbox,
    Priority,
    Queue,
    Skill,
    SlaPolicy,
    SpecialistHours,
    Status,
    Ticket,
    WorkKind,
)

SUPPORT_ROLES = (Role.SUPPORT_AGENT, Role.SUPPORT_LEAD, Role.ADMIN)


def support_people():
    return User.objects.filter(is_active=True, role__in=SUPPORT_ROLES).order_by("first_name", "last_name")


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; each is checked by the service (type, size) before it is kept."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(item, initial) for item in data if item]
        return [super().clean(data, initial)] if data else []


TICKET_CUSTOM_FIELDS = "service.ticket"  # the custom-field target (registered in ServiceConfig.ready)


class TicketForm(CustomFieldsFormMixin, forms.ModelForm):
    custom_target = TICKET_CUSTOM_FIELDS
    tags = forms.CharField(label=_("Tags"), required=False, help_text=_("Separate tags with commas."))

    class Meta:
        model = Ticket
        fields = ["subject", "description", "account", "contact", "channel", "category", "product", "priority",
                  "queue", "owner", "tags", "shared_with_team"]
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["account"].queryset = Account.objects.visible_to(user).only("id", "name")
        use_autocomplete(self.fields["account"], reverse_lazy("autocomplete_accounts"))
        self.fields["contact"].queryset = Contact.objects.visible_to(user)
        use_autocomplete(self.fields["contact"], reverse_lazy("autocomplete_contacts"))
        self.fields["product"].queryset = Product.objects.filter(active=True, deleted_at__isnull=True)
        self.fields["queue"].queryset = Queue.objects.all()
        self.fields["queue"].required = False
        self.fields["queue"].help_text = _("Empty: the queue that takes this category.")
        self.fields["owner"].queryset = support_people()
        self.fields["owner"].required = False
        self.fields["owner"].help_text = _("Empty: the queue's rule decides (or the ticket waits in the queue).")
        if self.instance.pk:
            self.fields["tags"].initial = ", ".join(self.instance.tags)
            for name in ("queue", "owner"):  # changed with their own actions on the ticket page
                del self.fields[name]
        self.add_custom_fields()

    def service_fields(self, names) -> dict:
        """The cleaned values the ticket services take: the model's fields and `custom` as one dict."""
        data = self.pop_custom(dict(self.cleaned_data))
        data["custom"] = self.custom_values()
        return {name: value for name, value in data.items() if name in names}

    def clean_body(self):
        body = self.cleaned_data.get("body", "")
        return richtext.clean(body) if richtext.has_markup(body) else body

    def clean_tags(self):
        raw = self.cleaned_data.get("tags", "")
        return sorted({tag.strip()[:50] for tag in raw.split(",") if tag.strip()})

    def clean(self):
        data = super().clean()
        contact, account = data.get("contact"), data.get("account")
        if contact and account and contact.account_id not in (None, account.pk):
            self.add_error("contact", _("This person works for another account."))
        return data


REPLY_STATUSES = [(status.value, status.label) for status in (Status.PENDING, Status.OPEN, Status.ON_HOLD,
                                                                 Status.RESOLVED)]


class ReplyForm(forms.Form):
    body = forms.CharField(label=_("Message"), widget=forms.Textarea(attrs={"rows": 6}), max_length=20000)
    internal = forms.BooleanField(label=_("Internal note (never shown to the customer)"), required=False,
                                  widget=forms.CheckboxInput(attrs={"class": "form-check-input"}))
    status = forms.ChoiceField(label=_("Then set the ticket to"), required=False,
                               choices=[("", _("Automatic (a reply waits for the customer)")), *REPLY_STATUSES],
                               widget=forms.Select(attrs={"class": "form-select form-select-sm"}))
    files = MultipleFileField(label=_("Attachments"),
                              help_text=_("PDF, PNG, JPEG, DOCX or XLSX, up to 10 MB each."))


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=Status.choices)


class AssignForm(forms.Form):
    owner = forms.ModelChoiceField(label=_("Assignee"), queryset=User.objects.none(), required=False,
                                   empty_label=_("Nobody (waits in the queue)"),
                                   widget=forms.Select(attrs={"class": "form-select form-select-sm"}))
    queue = forms.ModelChoiceField(label=_("Queue"), queryset=Queue.objects.all(), required=False,
                                   widget=forms.Select(attrs={"class": "form-select form-select-sm"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = support_people()


class HotlineTicketForm(forms.Form):
    """The hotline's "new ticket": the caller is already known from the lookup."""

    subject = forms.CharField(label=_("What is it about?"), max_length=250)
    call_note = forms.CharField(label=_("Call notes"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
    category = forms.ChoiceField(label=_("Category"), choices=Category.choices, initial=Category.QUESTION)
    priority = forms.TypedChoiceField(label=_("Priority"), choices=Priority.choices, coerce=int,
                                      initial=Priority.NORMAL)


class HotlineCallForm(forms.Form):
    """The hotline's "add the call to an open ticket"."""

    ticket = forms.IntegerField(widget=forms.HiddenInput)
    call_note = forms.CharField(label=_("Call notes"), widget=forms.Textarea(attrs={"rows": 2}))


class CannedResponseForm(forms.ModelForm):
    class Meta:
        model = CannedResponse
        fields = ["title", "body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 6})}
        help_texts = {"body": _("Merge fields: {contact.first_name}, {contact.name}, {account.name}, "
                                "{ticket.number}, {ticket.subject}, {agent.name}, {agent.first_name}.")}




WEEKDAYS = [(0, _("Monday")), (1, _("Tuesday")), (2, _("Wednesday")), (3, _("Thursday")), (4, _("Friday")),
            (5, _("Saturday")), (6, _("Sunday"))]


class QueueForm(forms.ModelForm):
    members = forms.ModelMultipleChoiceField(label=_("Agents"), queryset=User.objects.none(), required=False,
                                             widget=forms.CheckboxSelectMultiple)
    categories = forms.MultipleChoiceField(label=_("Categories routed here"), choices=Category.choices,
                                           required=False, widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = Queue
        fields = ["name", "description", "lead", "members", "assignment", "categories", "is_default", "teams"]
        widgets = {"teams": forms.CheckboxSelectMultiple}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["members"].queryset = support_people()
        self.fields["lead"].queryset = support_people()
        self.fields["teams"].queryset = Team.objects.order_by("name")

    def clean_is_default(self):
        is_default = self.cleaned_data["is_default"]
        others = Queue.objects.filter(is_default=True).exclude(pk=self.instance.pk)
        if is_default and others.exists():
            raise forms.ValidationError(_("%(queue)s is already the default queue.") % {"queue": others.first()})
        return is_default


class SlaPolicyForm(forms.ModelForm):
    class Meta:
        model = SlaPolicy
        fields = ["name", "priority", "account_tier", "first_response_minutes", "resolution_minutes",
                  "at_risk_percent", "calendar", "is_active"]
        widgets = {"account_tier": forms.Select(choices=[("", _("Every tier")), *AccountTier.choices])}

    def clean(self):
        data = super().clean()
        clash = SlaPolicy.objects.filter(is_active=True, priority=data.get("priority"),
                                         account_tier=data.get("account_tier", "")).exclude(pk=self.instance.pk)
        if data.get("is_active") and clash.exists():
            raise forms.ValidationError(_("%(policy)s already covers this priority and tier.")
                                        % {"policy": clash.first()})
        if data.get("at_risk_percent") is not None and not 1 <= data["at_risk_percent"] <= 99:
            self.add_error("at_risk_percent", _("Give a share between 1 and 99 %."))
        return data


class CalendarForm(forms.ModelForm):
    work_days = forms.TypedMultipleChoiceField(label=_("Working days"), choices=WEEKDAYS, coerce=int,
                                               required=False, widget=forms.CheckboxSelectMultiple)
    holiday_lines = forms.CharField(
        label=_("Holidays"), required=False, widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("One per line: a date (YYYY-MM-DD) and, after a space, its name."))

    class Meta:
        model = BusinessCalendar
        fields = ["name", "time_zone", "around_the_clock", "work_days", "opens_at", "closes_at"]
        widgets = {"opens_at": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
                   "closes_at": forms.TimeInput(attrs={"type": "time"}, format="%H:%M")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["holiday_lines"].initial = "\n".join(
                f"{holiday.date.isoformat()} {holiday.name}".strip() for holiday in self.instance.holidays.all())
        else:
            self.fields["work_days"].initial = [0, 1, 2, 3, 4]

    def clean_holiday_lines(self):
        holidays = {}
        for number, line in enumerate(self.cleaned_data["holiday_lines"].splitlines(), start=1):
            if not line.strip():
                continue
            day, _space, name = line.strip().partition(" ")
            try:
                holidays[datetime.date.fromisoformat(day)] = name.strip()[:100]
            except ValueError:
                raise forms.ValidationError(_("Line %(number)s: “%(day)s” is not a date like 2026-12-31.")
                                            % {"number": number, "day": day}) from None
        return holidays

    def clean(self):
        data = super().clean()
        if not data.get("around_the_clock"):
            opens, closes = data.get("opens_at"), data.get("closes_at")
            if opens and closes and closes != datetime.time(0) and closes <= opens:
                self.add_error("closes_at", _("Closing must come after opening (00:00 means midnight)."))
            if not data.get("work_days"):
                self.add_error("work_days", _("Tick at least one working day."))
        return data

    def save(self, commit=True):
        calendar = super().save(commit=commit)
        if commit:
            holidays = self.cleaned_data["holiday_lines"]
            calendar.holidays.exclude(date__in=list(holidays)).delete()
            for day, name in holidays.items():
                Holiday.objects.update_or_create(calendar=calendar, date=day, defaults={"name": name})
        return calendar


class EscalationRuleForm(forms.ModelForm):
    class Meta:
        model = EscalationRule
        fields = ["policy", "event", "notify", "user", "raise_priority_to"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["policy"].empty_label = _("Every policy")
        self.fields["user"].queryset = User.objects.filter(is_active=True).order_by("first_name", "last_name")

    def clean(self):
        data = super().clean()
        if data.get("notify") == EscalationTarget.USER and not data.get("user"):
            self.add_error("user", _("Choose whom to tell."))
        return data


class ArticleForm(forms.ModelForm):
    tags = forms.CharField(label=_("Tags"), required=False, help_text=_("Separate tags with commas."))

    class Meta:
        model = Article
        fields = ["title", "category", "status", "audience", "tags", "body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 14})}
        help_texts = {"body": _("Plain text, or basic HTML: headings, lists, bold and italic, links, quotes, code "
                                "and tables. Anything else (scripts, styles, images, frames) is removed.")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["tags"].initial = ", ".join(self.instance.tags)

    def clean_body(self):
        body = self.cleaned_data.get("body", "")
        return richtext.clean(body) if richtext.has_markup(body) else body

    def clean_tags(self):
        raw = self.cleaned_data.get("tags", "")
        return sorted({tag.strip()[:50] for tag in raw.split(",") if tag.strip()})


class ArticleCategoryForm(forms.ModelForm):
    class Meta:
        model = ArticleCategory
        fields = ["name"]


DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ContractForm(forms.ModelForm):
    class Meta:
        model = Contract
        fields = ["name", "kind", "account", "product", "serial_number", "starts_on", "ends_on", "entitlement",
                  "entitled_amount", "sla_policy", "notice_days", "owner", "description"]
        widgets = {"starts_on": DATE_INPUT, "ends_on": DATE_INPUT, "description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, user: User, **kwargs):
        from crm.visibility import assignable_owners

        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = Account.objects.visible_to(user).only("id", "name")
        use_autocomplete(self.fields["account"], reverse_lazy("autocomplete_accounts"))
        self.fields["product"].queryset = Product.objects.filter(active=True, deleted_at__isnull=True)
        self.fields["sla_policy"].queryset = SlaPolicy.objects.filter(is_active=True)
        owners = assignable_owners(user)
        if self.instance.pk:
            owners = owners | User.objects.filter(pk=self.instance.owner_id)
        self.fields["owner"].queryset = owners.distinct()
        self.fields["owner"].required = False
        self.fields["owner"].help_text = _("Who renews it. Empty: the account's owner.")

    def clean(self):
        data = super().clean()
        starts, ends = data.get("starts_on"), data.get("ends_on")
        if starts and ends and ends < starts:
            self.add_error("ends_on", _("A contract cannot end before it starts."))
        if data.get("entitlement") in (Entitlement.TICKETS, Entitlement.HOURS) and not data.get("entitled_amount"):
            self.add_error("entitled_amount", _("Say how many tickets or hours are included."))
        return data


class WorkLogForm(forms.Form):
    kind = forms.ChoiceField(label=_("What"), choices=WorkKind.choices, initial=WorkKind.TIME,
                             widget=forms.Select(attrs={"class": "form-select form-select-sm"}))
    minutes = forms.IntegerField(label=_("Minutes"), min_value=1, max_value=24 * 60, required=False,
                                 widget=forms.NumberInput(attrs={"class": "form-control form-control-sm"}))
    product = forms.ModelChoiceField(label=_("Product"), queryset=Product.objects.none(), required=False,
                                     widget=forms.Select(attrs={"class": "form-select form-select-sm"}))
    quantity = forms.DecimalField(label=_("Quantity"), min_value=0, max_digits=10, decimal_places=2, required=False,
                                  widget=forms.NumberInput(attrs={"class": "form-control form-control-sm",
                                                                  "step": "0.01"}))
    amount = forms.DecimalField(label=_("Amount"), min_value=0, max_digits=14, decimal_places=2, required=False,
                                widget=forms.NumberInput(attrs={"class": "form-control form-control-sm",
                                                                "step": "0.01"}))
    currency = forms.CharField(label=_("Currency"), max_length=3, required=False,
                               widget=forms.TextInput(attrs={"class": "form-control form-control-sm",
                                                             "placeholder": "RUB"}))
    note = forms.CharField(label=_("Note"), max_length=300, required=False,
                           widget=forms.TextInput(attrs={"class": "form-control form-control-sm"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = Product.objects.filter(active=True, deleted_at__isnull=True)

    def clean_currency(self):
        currency = self.cleaned_data["currency"].strip().upper()
        if currency and (len(currency) != 3 or not currency.isalpha()):
            raise forms.ValidationError(_("Use a three-letter currency code such as RUB."))
        return currency


# --- Field service -------------------------------------------------------------------------------


class SkillForm(forms.ModelForm):
    specialists = forms.ModelMultipleChoiceField(label=_("Specialists"), queryset=User.objects.none(),
                                                 required=False, widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = Skill
        fields = ["name", "specialists", "labour_product"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["specialists"].queryset = User.objects.filter(is_active=True).order_by("first_name", "last_name")
        self.fields["labour_product"].queryset = Product.objects.filter(active=True, deleted_at__isnull=True)


class SpecialistHoursForm(forms.ModelForm):
    class Meta:
        model = SpecialistHours
        fields = ["specialist", "calendar"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["specialist"].queryset = (User.objects.filter(is_active=True, skills__isnull=False).distinct()
                                              .order_by("first_name", "last_name"))
        self.fields["calendar"].help_text = _("Visits are sent only within these hours (not on its holidays).")


TIME_INPUT = forms.TimeInput(attrs={"type": "time", "class": "form-control"}, format="%H:%M")


class DispatchForm(forms.Form):
    """The slot and the specialist. `skill`, `day` and `any_territory` also drive the proposals (GET)."""

    skill = forms.ModelChoiceField(label=_("Skill needed"), queryset=Skill.objects.all(), required=False,
                                   empty_label=_("Any skill"), widget=forms.Select(attrs={"class": "form-select"}))
    day = forms.DateField(label=_("Day"), widget=forms.DateInput(attrs={"type": "date", "class": "form-control"},
                                                                 format="%Y-%m-%d"))
    any_territory = forms.BooleanField(label=_("Also specialists outside the customer's territory"), required=False)
    starts = forms.TimeField(label=_("From"), widget=TIME_INPUT, required=False)
    ends = forms.TimeField(label=_("Until"), widget=TIME_INPUT, required=False)
    specialist = forms.ModelChoiceField(label=_("Specialist"), queryset=User.objects.filter(is_active=True),
                                        required=False, widget=forms.RadioSelect)

    def clean(self):
        data = super().clean()
        if self.data.get("dispatch"):
            for name in ("starts", "ends", "specialist"):
                if not data.get(name):
                    self.add_error(name, _("This field is required."))
            if data.get("starts") and data.get("ends") and data["ends"] <= data["starts"]:
                self.add_error("ends", _("The visit must end after it starts."))
        return data


class BillForm(forms.Form):
    labour = forms.ModelChoiceField(label=_("Bill time as"), queryset=Product.objects.none(), required=False,
                                    widget=forms.Select(attrs={"class": "form-select form-select-sm"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["labour"].queryset = Product.objects.filter(active=True, deleted_at__isnull=True)


class ImapMailboxForm(forms.ModelForm):
    """An IMAP mailbox the desk reads. The password is never shown again: left empty on an existing
    mailbox, the one stored is kept."""

    password = forms.CharField(label=_("Password"), max_length=500, required=False, strip=False,
                               widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}))

    class Meta:
        model = ImapMailbox
        fields = ["name", "host", "port", "security", "username", "password", "folder", "done_folder", "queue",
                  "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["password"].help_text = _("Leave empty to keep the password stored.")

    def clean_host(self):
        host = self.cleaned_data["host"].strip()
        if not host or any(char.isspace() or char in "/:@" for char in host):
            raise forms.ValidationError(
                _("Give the server's name, such as imap.yandex.ru, without a port or a scheme."))
        return host

    def clean_port(self):
        port = self.cleaned_data["port"]
        if not 1 <= port <= 65535:
            raise forms.ValidationError(_("A port is a number from 1 to 65535."))
        return port

    def clean_password(self):
        password = self.cleaned_data["password"]
        if not password:
            if not self.instance.pk:
                raise forms.ValidationError(_("This field is required."))
            return self.instance.password
        return password

    def clean(self):
        data = super().clean()
        folder, done = (data.get("folder") or "").strip(), (data.get("done_folder") or "").strip()
        if folder and done and folder == done:
            self.add_error("done_folder", _("Processed mail must go to another folder than the one read."))
        return data

    def save(self, commit=True):
        if {"host", "port", "username", "folder"} & set(self.changed_data):
            # Another mailbox or folder: its UIDs are new to us (Message-IDs still keep each message to once).
            self.instance.uid_validity, self.instance.last_uid = None, 0
        return super().save(commit=commit)

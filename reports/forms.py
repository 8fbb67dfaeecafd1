"""The dashboard's filter form (GET). Its choices are the opportunity list's (sales/filters.py), so a
figure's link to the list keeps every filter, and a forged id of a hidden team or person fails
validation like a missing one."""

from typing import Any

from django import forms
from django.core.validators import validate_email
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.models import Team, Territory, User
from crm.visibility import managed_team_ids
from reports.models import AttachmentFormat, Frequency, ReportSubscription, SavedReport
from reports.pipeline import MONTH, QUARTER, YEAR, Filters, Period
from sales.filters import cached_deal_choices, people_visible_to, teams_visible_to
from sales.models import Opportunity, Pipeline

PERIODS = [(MONTH, _("Month")), (QUARTER, _("Quarter")), (YEAR, _("Year"))]


class PipelineDashboardForm(forms.Form):
    period = forms.ChoiceField(label=_("Period"), choices=PERIODS, required=False)
    start = forms.DateField(label=_("Any day in the period"), required=False,
                            widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    pipeline = forms.ModelChoiceField(label=_("Pipeline"), queryset=Pipeline.objects.all(), required=False,
                                      empty_label=_("All pipelines"))
    team = forms.ModelChoiceField(label=_("Team"), queryset=None, required=False, empty_label=_("All teams"))
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=None, required=False, empty_label=_("Everyone"))
    territory = forms.ModelChoiceField(label=_("Territory"), queryset=Territory.objects.all(), required=False,
                                       empty_label=_("All territories"))

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams_visible_to(user, Opportunity).order_by("name")
        self.fields["owner"].queryset = people_visible_to(user, Opportunity)
        self.fields["team"].error_messages["invalid_choice"] = _("You cannot see this team's deals.")
        self.fields["owner"].error_messages["invalid_choice"] = _("You cannot see this person's deals.")
        cached_deal_choices(self, user, pipeline="pipeline", team="team", owner="owner", territory="territory")
        for bound in self:
            css = "form-select form-select-sm" if isinstance(bound.field.widget, forms.Select) else \
                "form-control form-control-sm"
            bound.field.widget.attrs["class"] = css

    def clean_start(self):
        start = self.cleaned_data.get("start")
        if start and not 2000 <= start.year <= 2100:  # the period and its neighbours must stay real dates
            raise forms.ValidationError(_("Choose a date between 2000 and 2100."))
        return start

    def filters(self) -> Filters:
        """The valid filters; an invalid one falls back to its default (the page shows its error)."""
        self.is_valid()
        data = self.cleaned_data
        period = Period.containing(data.get("period") or QUARTER, data.get("start") or timezone.localdate())
        return Filters(period=period, pipeline=data.get("pipeline"), team=data.get("team"), owner=data.get("owner"),
                       territory=data.get("territory"))


class SubscribeForm(forms.Form):
    frequency = forms.ChoiceField(label=_("E-mail me this dashboard"), choices=Frequency.choices,
                                  error_messages={"invalid_choice": _("Choose how often to send it.")})
    attachment = forms.ChoiceField(label=_("With a file"), required=False, initial=AttachmentFormat.CSV,
                                   choices=[(AttachmentFormat.CSV, "CSV"), (AttachmentFormat.XLSX, "XLSX (Excel)")],
                                   error_messages={"invalid_choice": _("Choose CSV or XLSX.")},
                                   widget=forms.Select(attrs={"class": "form-select form-select-sm"}))
    query = forms.CharField(max_length=500, required=False, widget=forms.HiddenInput)
    dashboard = forms.CharField(max_length=30, required=False, widget=forms.HiddenInput)

    def clean_dashboard(self) -> str:
        from reports import subscribable

        key = self.cleaned_data.get("dashboard") or subscribable.DEFAULT
        if subscribable.get(key) is None:
            raise forms.ValidationError(_("There is no such dashboard."))
        return key

    def clean_attachment(self) -> str:
        return self.cleaned_data.get("attachment") or AttachmentFormat.CSV


class SaveReportForm(forms.ModelForm):
    """Saving the builder's report: its name, and with whom it is shared (a team of the user's)."""

    query = forms.CharField(max_length=20000, widget=forms.HiddenInput)  # its length is checked once parsed

    class Meta:
        model = SavedReport
        fields = ["name", "description", "team"]

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        teams = Team.objects.filter(Q(pk=user.team_id) | Q(pk__in=managed_team_ids(user))).order_by("name")
        self.fields["name"].label = _("Report name")
        self.fields["team"].queryset = teams
        self.fields["team"].empty_label = _("Only me")
        self.fields["team"].label = _("Share with")
        self.fields["team"].error_messages["invalid_choice"] = _("Share it with your own team or a team you manage.")
        self.fields["team"].help_text = _("Everyone in the team can run and copy it, and sees only the records they "
                                          "may see.")
        for bound in self:
            css = "form-select form-select-sm" if isinstance(bound.field.widget, forms.Select) else \
                "form-control form-control-sm"
            bound.field.widget.attrs["class"] = css


REPORT_FREQUENCIES = [(Frequency.DAILY, _("Every day")), (Frequency.WEEKLY, _("Every week")),
                      (Frequency.MONTHLY, _("Every month"))]
MAX_RECIPIENTS = 20


class ScheduleForm(forms.ModelForm):
    """A saved report's schedule: when (in the owner's time zone), to whom, with which attachment."""

    frequency = forms.ChoiceField(label=_("How often"), choices=REPORT_FREQUENCIES,
                                  error_messages={"invalid_choice": _("Choose how often to send it.")})

    class Meta:
        model = ReportSubscription
        fields = ["frequency", "weekday", "day_of_month", "send_time", "recipients", "attachment"]
        widgets = {"send_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
                   "recipients": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["weekday"].help_text = _("For a weekly report.")
        self.fields["day_of_month"].help_text = _("For a monthly report; in a shorter month, its last day.")
        self.fields["send_time"].help_text = _("In your time zone (%(zone)s).") % {"zone": user.time_zone}
        self.fields["recipients"].help_text = _("E-mail addresses, one a line or separated by commas (at most "
                                                "%(count)s). Empty: you.") % {"count": MAX_RECIPIENTS}
        self.fields["day_of_month"].error_messages["min_value"] = _("Choose a day from 1 to 31.")
        self.fields["day_of_month"].error_messages["max_value"] = _("Choose a day from 1 to 31.")
        for bound in self:
            css = "form-select form-select-sm" if isinstance(bound.field.widget, forms.Select) else \
                "form-control form-control-sm"
            bound.field.widget.attrs["class"] = css

    def clean_recipients(self) -> str:
        raw = self.cleaned_data.get("recipients", "")
        addresses = [item.strip() for item in raw.replace(",", "\n").splitlines() if item.strip()]
        if len(addresses) > MAX_RECIPIENTS:
            raise forms.ValidationError(_("Send it to at most %(count)s addresses.") % {"count": MAX_RECIPIENTS})
        bad = []
        for address in addresses:
            try:
                validate_email(address)
            except forms.ValidationError:
                bad.append(address[:80])
        if bad:
            raise forms.ValidationError(_("Not an e-mail address: %(addresses)s") % {"addresses": ", ".join(bad)})
        return "\n".join(dict.fromkeys(addresses))


class CustomersFilterForm(forms.Form):
    """The customers dashboard's filter: an owner among those the account list offers the reader."""

    owner = forms.ModelChoiceField(label=_("Owner"), queryset=User.objects.none(), required=False,
                                   empty_label=_("Everyone I may see"))
    months = forms.IntegerField(label=_("No purchase for, months"), min_value=1, max_value=36, required=False,
                                widget=forms.NumberInput(attrs={"class": "form-control form-control-sm months-input"}))
    # The purchases by month, region and product family and the shipments by family and month (the ranking's
    # figures are a rolling snapshot).
    period = forms.ChoiceField(label=_("Period"), choices=PERIODS, required=False)
    start = forms.DateField(label=_("Any day in the period"), required=False,
                            widget=forms.DateInput(attrs={"type": "date", "class": "form-control form-control-sm"},
                                                   format="%Y-%m-%d"))
    clean_start = PipelineDashboardForm.clean_start

    def __init__(self, *args, owners, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owners
        self.fields["owner"].widget.attrs["class"] = "form-select form-select-sm"
        self.fields["period"].widget.attrs["class"] = "form-select form-select-sm"

    def purchase_period(self) -> Period:
        self.is_valid()  # an invalid field falls back to its default (the page shows its error)
        data = self.cleaned_data
        return Period.containing(data.get("period") or QUARTER, data.get("start") or timezone.localdate())


class PeriodForm(forms.Form):
    """A dashboard with a period and nothing else to filter (the lead sources)."""

    period = forms.ChoiceField(label=_("Period"), choices=PERIODS, required=False)
    start = forms.DateField(label=_("Any day in the period"), required=False,
                            widget=forms.DateInput(attrs={"type": "date", "class": "form-control form-control-sm"},
                                                   format="%Y-%m-%d"))
    clean_start = PipelineDashboardForm.clean_start

    def filters(self) -> Filters:
        self.is_valid()
        data = self.cleaned_data
        day = data.get("start") or timezone.localdate()
        return Filters(period=Period.containing(data.get("period") or QUARTER, day))

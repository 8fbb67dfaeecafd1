"""The dashboard's filter form (GET). Its choices are the opportunity list's (sales/filters.py), so a
figure's link to the list keeps every filter, and a forged id of a hidden team or person fails
validation like a missing one."""

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.models import Territory, User
from reports.models import Frequency
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
    query = forms.CharField(max_length=500, required=False, widget=forms.HiddenInput)

"""Forms of the targets and forecast pages. Choices go through the visibility rules: a forged id
of a hidden team or person fails validation like a missing one."""

from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sales import forecast_services as fs
from sales.models import ForecastCategory, Pipeline, TargetPeriod

GROUPS = [(fs.OWNER, _("By owner")), (fs.TEAM, _("By team"))]
FIGURE_CHOICES = [("all", _("All")), ("won", _("Won")), ("commit", _("Commit")), ("best_case", _("Best case")),
                  ("pipeline", _("Pipeline")), ("weighted", _("Open"))]


class ForecastFilterForm(forms.Form):
    period = forms.ChoiceField(label=_("Period"), choices=TargetPeriod.choices, required=False)
    start = forms.DateField(label=_("Starting"), required=False, widget=forms.HiddenInput)
    group = forms.ChoiceField(label=_("Rows"), choices=GROUPS, required=False)
    team = forms.ModelChoiceField(label=_("Team"), queryset=None, required=False, empty_label=_("All teams"))
    pipeline = forms.ModelChoiceField(label=_("Pipeline"), queryset=Pipeline.objects.filter(active=True),
                                      required=False, empty_label=_("All pipelines"))
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=None, required=False, widget=forms.HiddenInput)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = fs.visible_teams(user).order_by("name")
        self.fields["owner"].queryset = fs.visible_people(user)
        self.fields["owner"].error_messages["invalid_choice"] = _("You cannot see this person's forecast.")
        self.fields["team"].error_messages["invalid_choice"] = _("You cannot see this team's forecast.")

    def clean_start(self):
        start = self.cleaned_data.get("start")
        if start and not 2000 <= start.year <= 2100:  # the period and its neighbours must stay real dates
            raise forms.ValidationError(_("Choose a date between 2000 and 2100."))
        return start

    def values(self) -> dict:
        """The valid filters (an invalid one falls back to its default and shows its error)."""
        self.is_valid()
        data = self.cleaned_data
        kind = data.get("period") or TargetPeriod.MONTH
        return {
            "period": fs.Period.containing(kind, data.get("start") or timezone.localdate()),
            "group_by": data.get("group") or fs.OWNER,
            "team": data.get("team"),
            "pipeline": data.get("pipeline"),
            "owner": data.get("owner"),
        }


class DrillDownForm(ForecastFilterForm):
    figure = forms.ChoiceField(choices=FIGURE_CHOICES, required=False)
    key = forms.CharField(max_length=20, required=False)


class TargetsFilterForm(forms.Form):
    period = forms.ChoiceField(label=_("Targets per"), choices=TargetPeriod.choices, required=False)
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100, required=False)
    team = forms.ModelChoiceField(label=_("Team"), queryset=None, required=False, empty_label=_("All teams"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = fs.visible_teams(user).order_by("name")

    def values(self) -> tuple[str, int, object]:
        self.is_valid()
        return (self.cleaned_data.get("period") or TargetPeriod.MONTH,
                self.cleaned_data.get("year") or timezone.localdate().year, self.cleaned_data.get("team"))


class TargetCellForm(forms.Form):
    """One cell of the targets grid: the subject ("user:12" or "team:3"), the period, and the figures."""

    subject = forms.RegexField(regex=r"^(user|team):\d{1,12}$")
    period = forms.ChoiceField(choices=TargetPeriod.choices)
    period_start = forms.DateField()
    amount = forms.DecimalField(label=_("Amount"), required=False, min_value=Decimal(0), max_digits=16,
                                decimal_places=2)
    deal_count = forms.IntegerField(label=_("Deals"), required=False, min_value=0, max_value=1_000_000)

    def clean(self):
        data = super().clean()
        if data.get("amount") is None and data.get("deal_count") is not None and "amount" not in self.errors:
            self.add_error("amount", _("Enter the amount to win too (0 if only the deal count matters)."))
        return data


class DealCategoryForm(forms.Form):
    forecast_category = forms.ChoiceField(choices=ForecastCategory.choices)
    version = forms.IntegerField(min_value=1)

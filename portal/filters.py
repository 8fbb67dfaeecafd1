"""The surveys' filters, shared by the API (`/api/surveys/`) and the export (`portal.survey`)."""

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from portal.models import LOW_RATING, Survey

DATE_INPUT = forms.DateInput(attrs={"type": "date"})
ANSWERED = [("yes", _("Answered")), ("no", _("Not answered yet"))]


class SurveyFilter(django_filters.FilterSet):
    answered = django_filters.ChoiceFilter(label=_("Answered"), choices=ANSWERED, empty_label=_("Any"),
                                           method="by_answer")
    rating = django_filters.TypedChoiceFilter(label=_("Rating"), coerce=int,
                                              choices=[("", _("Any rating")), *((n, str(n)) for n in range(1, 6))])
    low = django_filters.BooleanFilter(label=_("Low ratings (1–2) only"), method="only_low",
                                       widget=forms.Select(choices=[("", _("Any")), ("true", _("Yes")),
                                                                    ("false", _("No"))]))
    answered_after = django_filters.DateFilter(label=_("Answered from"), field_name="answered_at",
                                               lookup_expr="date__gte", widget=DATE_INPUT)
    answered_before = django_filters.DateFilter(label=_("Answered until"), field_name="answered_at",
                                                lookup_expr="date__lte", widget=DATE_INPUT)
    ticket = django_filters.NumberFilter(label=_("Ticket"), field_name="ticket_id", widget=forms.HiddenInput)
    agent = django_filters.NumberFilter(label=_("Agent"), field_name="agent_id", widget=forms.HiddenInput)
    queue = django_filters.NumberFilter(label=_("Queue"), field_name="queue_id", widget=forms.HiddenInput)

    class Meta:
        model = Survey
        fields = []

    def by_answer(self, queryset, name, value):
        if value == "yes":
            return queryset.filter(answered_at__isnull=False)
        if value == "no":
            return queryset.filter(answered_at__isnull=True)
        return queryset

    def only_low(self, queryset, name, value):
        return queryset.filter(rating__lte=LOW_RATING) if value else queryset

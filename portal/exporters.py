"""The surveys' export (found by the exports app's autodiscovery): started from the feedback page, the
rows the reader may see (`Survey.objects.visible_to`), filtered like `/api/surveys/`."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from exports.registry import Exporter, register
from portal.filters import SurveyFilter
from portal.models import Survey


def _surveys(user):
    return (Survey.objects.visible_to(user)
            .select_related("ticket", "ticket__account", "ticket__contact", "ticket__product", "agent", "queue")
            .order_by("-resolved_at", "-id"))


def _survey_filter():
    return SurveyFilter


register(Exporter(
    target="portal.survey", label=_("Satisfaction surveys"), list_url="portal_staff:feedback",
    queryset=_surveys, filterset=_survey_filter,
    columns=[
        (_("ID"), lambda s: s.pk), (_("Ticket"), lambda s: s.ticket.number), (_("Subject"), lambda s: s.ticket.subject),
        (_("Account"), lambda s: s.ticket.account), (_("Contact"), lambda s: s.ticket.contact),
        (_("Category"), lambda s: s.ticket.get_category_display()), (_("Product"), lambda s: s.ticket.product),
        (_("Agent"), lambda s: s.agent), (_("Queue"), lambda s: s.queue),
        (pgettext_lazy("date column", "Resolved"), lambda s: s.resolved_at),
        (_("Survey sent"), lambda s: s.emailed_at), (_("Rating"), lambda s: s.rating),
        (_("Comment"), lambda s: s.comment), (_("Answered"), lambda s: s.answered_at),
        (_("Answered in the portal"), lambda s: s.answered_in_portal if s.answered_at else None),
    ],
))

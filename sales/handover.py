"""Open deals, open quotes and open leads move in a hand-over (crm/handover.py); won and lost deals
keep the seller who closed them (they are that person's results), and so do answered quotes
(accepted, rejected, expired or superseded: they are the record of what was offered)."""

from django.utils.translation import gettext_lazy as _

from crm import handover
from sales.models import Lead, Opportunity, Quote, QuoteStatus

OPEN_QUOTE_STATUSES = (QuoteStatus.DRAFT, QuoteStatus.SENT)

handover.register(handover.Kind(
    key="opportunities", label=_("Open deals"), order=30,
    rows=lambda actor, from_user: Opportunity.objects.editable_by(actor).open().filter(owner=from_user)))
handover.register(handover.Kind(
    key="quotes", label=_("Open quotes (drafts and sent)"), order=35,
    rows=lambda actor, from_user: Quote.objects.editable_by(actor).filter(owner=from_user,
                                                                          status__in=OPEN_QUOTE_STATUSES)))
handover.register(handover.Kind(
    key="leads", label=_("Open leads"), order=40,
    rows=lambda actor, from_user: Lead.objects.editable_by(actor).open().filter(owner=from_user)))

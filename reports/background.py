"""Scheduled report e-mails on the admins' Background work page (crm/background.py)."""

from datetime import datetime
from typing import Any

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from crm import background
from crm.background import FAILED, RECENT, ROWS, Row
from reports import scheduling
from reports.models import DeliveryStatus, ReportDelivery


def counts(now: datetime) -> dict[str, int]:
    recent_failures = Q(status=DeliveryStatus.FAILED, created_at__gte=now - RECENT)
    return background.tally(ReportDelivery.objects, {FAILED: recent_failures})


def rows(now: datetime) -> list[Row]:
    failed = (ReportDelivery.objects.select_related("subscription__user", "subscription__report")
              .filter(status=DeliveryStatus.FAILED, created_at__gte=now - RECENT).order_by("-created_at")[:ROWS])
    return [Row(pk=run.pk, title=f"{title(run)} → {run.subscription.user} ({run.period_key})", state=FAILED,
                at=run.created_at, attempts=run.attempts, error=run.error, can_retry=True)
            for run in failed]


def title(run: ReportDelivery) -> str:
    report = run.subscription.report
    return report.name if report is not None else gettext("Pipeline dashboard")


def retry(pk: int, actor: Any) -> bool | None:
    """Runs the failed run again now, as its owner (what they may see is what the e-mail holds)."""
    run = ReportDelivery.objects.select_related("subscription__user").filter(pk=pk).first()
    if run is None:
        return None
    if run.status != DeliveryStatus.FAILED:
        return False
    return bool(scheduling.report_retry(user=run.subscription.user, delivery_id=pk, now=timezone.now()))


background.register(background.Source(
    key="reports", label=_("Scheduled reports"), counts=counts, rows=rows, retry=retry,
    note=_("Each scheduled report is e-mailed once per day, week or month; a failed run is tried again "
           "with growing pauses and its owner is told. A retry runs it now, as its owner.")))

"""A scheduled saved report by e-mail: run as its owner (each recipient gets what the owner may see when it
is sent), the first rows in the body and the whole report (up to builder.EXPORT_ROWS) attached."""

import datetime

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.http import QueryDict
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from reports import builder, exporting, scheduling
from reports.models import ReportSubscription

BODY_ROWS = 50


def render(subscription: ReportSubscription, now: datetime.datetime) -> tuple[EmailMultiAlternatives, int]:
    owner, report = subscription.user, subscription.report
    if report is None:
        raise ValueError("not a saved report's schedule")
    zone = scheduling.owner_zone(owner)
    with translation.override(owner.language or settings.LANGUAGE_CODE), timezone.override(zone):
        definition = builder.parse(QueryDict(report.query), owner)  # a field removed since: ReportError, logged
        result = builder.run(definition, owner, limit=builder.EXPORT_ROWS)
        site = subscription.base_url.rstrip("/")
        rows = [[builder.display(value, column) for value, column in zip(row, result.columns, strict=True)]
                for row in result.rows[:BODY_ROWS]]
        context = {"report": report, "result": result, "rows": rows, "more": len(result.rows) > BODY_ROWS,
                   "day": timezone.localdate(now), "headers": exporting.headers(result),
                   "page_url": site + reverse("saved_report", args=[report.pk]),
                   "manage_url": site + reverse("saved_report_schedules", args=[report.pk])}
        subject = _("Report: %(name)s") % {"name": report.name}
        message = EmailMultiAlternatives(subject, render_to_string("reports/email/report.txt", context),
                                         to=subscription.recipient_list or [owner.email])
        message.attach_alternative(render_to_string("reports/email/report.html", context), "text/html")
        name = f"{report.name} {timezone.localdate(now):%Y-%m-%d}"
        if subscription.attachment == "xlsx":
            message.attach(exporting.file_name(name, "xlsx"), exporting.to_xlsx(result, report.name),
                           exporting.CONTENT_TYPES["xlsx"])
        elif subscription.attachment == "pdf":
            message.attach(exporting.file_name(name, "pdf"), exporting.to_pdf(result, report.name),
                           exporting.CONTENT_TYPES["pdf"])
        else:
            message.attach(exporting.file_name(name, "csv"), exporting.to_csv(result), "text/csv")
    return message, len(result.rows)

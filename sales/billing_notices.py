"""Overdue invoices: the owner is told once (in-app notification and e-mail) when an invoice
passes its due date unpaid.

The scheduler tick finds outstanding invoices past due whose `overdue_notified_at` is empty and
claims each with a compare-and-set UPDATE (`SET overdue_notified_at = now WHERE … IS NULL`), in
the same transaction as the notification and the queued e-mail (crm/outbox.py): of two ticks running
at once only one UPDATE matches, and the e-mail cannot be lost when the mail server is down: the
outbox sends it with retries once the server answers.
"""

from datetime import datetime

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Account
from crm import notifications, outbox, scheduler
from crm.models import NotificationKind
from sales.models import Invoice

BATCH = 500


INVOICE_OVERDUE = notifications.message(
    "invoice.overdue", gettext_lazy("Invoice %(number)s to %(account)s is overdue: %(balance)s was due on %(due)s."))
# The same notice to an owner who may not open the invoice's account: it never names it.
INVOICE_OVERDUE_HIDDEN_ACCOUNT = notifications.message(
    "invoice.overdue.hidden_account", gettext_lazy("Invoice %(number)s is overdue: %(balance)s was due on %(due)s."))


@scheduler.source("overdue_invoices")
def notify_overdue_invoices(now: datetime) -> int:
    today = timezone.localdate(now)
    due = (Invoice.objects.overdue(today).filter(overdue_notified_at__isnull=True, deleted_at__isnull=True)
           .order_by("due_date", "id").values_list("pk", flat=True)[:BATCH])
    notified = 0
    for invoice_id in list(due):
        if overdue_notice_send(invoice_id=invoice_id, now=now):
            notified += 1
    return notified


def overdue_notice_send(*, invoice_id: int, now: datetime) -> bool:
    """Claims the invoice's overdue notice and queues its e-mail; False when another run claimed it first."""
    with transaction.atomic():
        claimed = Invoice.objects.filter(pk=invoice_id, overdue_notified_at__isnull=True).update(
            overdue_notified_at=now)
        if not claimed:
            return False
        invoice = Invoice.objects.select_related("owner", "account").get(pk=invoice_id)
        owner = invoice.owner
        params = {"number": invoice.number, "balance": notifications.money(invoice.balance, invoice.currency),
                  "due": notifications.date(invoice.due_date)}
        message = INVOICE_OVERDUE_HIDDEN_ACCOUNT
        if Account.objects.visible_to(owner).filter(pk=invoice.account_id).exists():
            message, params["account"] = INVOICE_OVERDUE, invoice.account.name
        notifications.notify(user=owner, kind=NotificationKind.REMINDER, message=message, params=params,
                             url=invoice.get_absolute_url())
        with translation.override(owner.language or settings.LANGUAGE_CODE):
            text = notifications.render_message(message.key, params) or ""
            subject = _("Overdue invoice %(number)s") % {"number": invoice.number}
        if owner.is_active and owner.email:
            outbox.queue(EmailMessage(subject, text, to=[owner.email]), key=f"invoice-overdue:{invoice_id}")
    return True

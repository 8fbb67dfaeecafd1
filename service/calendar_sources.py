"""Work orders on the specialist's calendar (crm/calendar.py): the calendar lives in `activities`, above
this module, so it reads this source instead of the desk importing it. Nothing is copied: the visit is
the work order's own row, moved on its dispatch page."""

from datetime import datetime

from django.db.models import Q
from django.utils.translation import gettext as _

from crm import calendar
from crm.models import User
from service.models import WorkOrder, WorkOrderStatus

MAX_ENTRIES = 1000


@calendar.source("service.work_orders")
def work_orders(viewer: User, who: calendar.Who, starts: datetime, ends: datetime) -> list[calendar.Entry]:
    whose = Q(owner_id=who.user_id)
    if who.everyone:
        whose = Q(owner__isnull=False)
    elif who.team_ids:
        whose |= Q(owner__team_id__in=who.team_ids)
    rows = (WorkOrder.objects.visible_to(viewer).filter(whose, scheduled_start__gte=starts, scheduled_start__lt=ends)
            .exclude(status=WorkOrderStatus.CANCELLED).select_related("ticket", "account", "owner")
            .order_by("scheduled_start", "id")[:MAX_ENTRIES])
    return [calendar.Entry(
        key=f"work-order-{row.pk}", title=f"{row.number} {row.account or row.ticket.subject}",
        starts=row.scheduled_start, ends=row.scheduled_end, url=row.get_absolute_url(), icon="truck",
        kind="work-order", kind_label=_("Visit"), location=row.address.replace("\n", ", "),
        description=f"{row.ticket.number} {row.ticket.subject}\n{row.notes}".strip(),
        owner_name=str(row.owner) if row.owner else "", done=row.status == WorkOrderStatus.DONE,
        updated_at=row.updated_at,
    ) for row in rows]

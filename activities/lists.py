"""The activity list, declared (crm/lists.py renders it): calls, meetings, tasks, notes and e-mails the
reader may see, filtered by owner, kind and dates; the sales manager's dashboard drills into it."""

from django.utils.translation import gettext_lazy as _

from activities.filters import ActivityFilter
from activities.models import Activity
from crm.lists import Column, ListPage
from crm.visibility import with_visibility_flag

CELLS = "activities/list_cells.html"


class ActivityList(ListPage):
    model = Activity
    filterset = ActivityFilter
    title = _("Activities")
    url_name = "activity_list"
    table_id = "activity-table"
    columns = (
        Column(_("Subject"), template=f"{CELLS}#subject", card="title"),
        Column(_("Kind"), value="get_kind_display", card="status"),
        Column(_("When"), template=f"{CELLS}#when", sort="-occurred", card="date", nowrap=True),
        Column(_("About"), template=f"{CELLS}#about", card="sub"),
        Column(_("Status"), template=f"{CELLS}#status"),
        Column(_("Owner"), value="owner", card="owner"),
    )
    sorts = {"-occurred": ("-occurred_at", "-id"), "occurred": ("occurred_at", "id")}
    default_sort = "-occurred"
    primary_filters = ("q", "kind", "owner")
    empty_icon = "calendar-check"
    empty_text = _("Calls, meetings, tasks, notes and e-mails logged on customers and deals appear here.")
    empty_filtered_text = _("No activity matches these filters.")
    create_url_name = "activity_create"
    create_label = _("Log an activity")

    def queryset(self):
        return with_visibility_flag(Activity.objects.visible_to(self.user).select_related("owner", "account"),
                                    self.user, "account")

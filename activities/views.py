from datetime import timedelta
from functools import reduce
from operator import or_

from django.contrib import messages
from django.db.models import Case, CharField, F, Q, Value, When, Window
from django.db.models.functions import RowNumber
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import Account
from activities import services
from activities.forms import ActivityForm
from activities.models import Activity, ActivityKind, ArchivedActivity, TaskStatus
from activities.timeline import timeline_page
from contacts.models import Contact
from crm import panels, visibility
from crm.history import history_for
from crm.list_tools import to_int
from crm.redirects import safe_next


def can_see_account(user, account) -> bool:
    return account is not None and visibility.can_see(user, account)


def activity_create(request):
    kind = request.GET.get("kind", ActivityKind.CALL)
    if kind not in ActivityKind.values:
        raise Http404
    visibility.require_create(request.user, Activity)
    initial = {}
    # Pre-fill from ?account= / ?contact= only with rows the user may see.
    if request.GET.get("account"):
        initial["account"] = Account.objects.visible_to(request.user).filter(pk=to_int(request.GET["account"])).first()
    if request.GET.get("contact"):
        contact = Contact.objects.visible_to(request.user).filter(pk=to_int(request.GET["contact"])).first()
        initial["contact"] = contact
        if contact and contact.account_id and not initial.get("account"):
            initial["account"] = contact.account
    if request.GET.get("opportunity"):
        from sales.models import Opportunity

        opportunity = Opportunity.objects.visible_to(request.user).select_related("account").filter(
            pk=to_int(request.GET["opportunity"])).first()
        initial["opportunity"] = opportunity
        if opportunity and not initial.get("account") and can_see_account(request.user, opportunity.account):
            initial["account"] = opportunity.account
    if request.GET.get("lead"):
        from sales.models import Lead

        initial["lead"] = Lead.objects.visible_to(request.user).filter(pk=to_int(request.GET["lead"])).first()
    form = ActivityForm(request.POST or None, user=request.user, kind=kind, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.service_fields()
        activity = services.activity_create(actor=request.user, kind=kind, **data)
        messages.success(request, _("%(kind)s “%(subject)s” was saved.") % {
            "kind": activity.get_kind_display(), "subject": activity.subject})
        return redirect(safe_next(request, activity.get_absolute_url()))
    return render(request, "activities/activity_form.html", {"form": form, "kind": kind,
                                                      "kind_label": ActivityKind(kind).label,
                                                      "next": safe_next(request, "")})



def activity_detail(request, pk: int):
    try:
        activity = visibility.get_visible_or_404(
            Activity.objects.select_related("owner", "account", "contact", "opportunity", "lead")
            .prefetch_related("attendees"), request.user, pk=pk,
        )
    except Http404:
        # Moved to the archive (activities/archive.py): the same address shows it, read-only, to the same people.
        activity = visibility.get_visible_or_404(
            ArchivedActivity.objects.select_related("owner", "account", "contact", "opportunity", "lead"),
            request.user, pk=pk)
    return render(request, "activities/activity_detail.html", {
        "activity": activity,
        "can_edit": not activity.is_archived and visibility.can_edit(request.user, activity),
        "account_visible": bool(activity.account_id) and visibility.can_see(request.user, activity.account),
        "contact_visible": bool(activity.contact_id) and visibility.can_see(request.user, activity.contact),
        "opportunity_visible": bool(activity.opportunity_id) and visibility.can_see(request.user, activity.opportunity),
        "lead_visible": bool(activity.lead_id) and visibility.can_see(request.user, activity.lead),
        # The audit history is kept by the activity's id: an archived one still reads it.
        "history": history_for(Activity(pk=activity.pk) if activity.is_archived else activity, user=request.user),
    })


def activity_edit(request, pk: int):
    activity = visibility.get_editable_or_404(Activity.objects.select_related("account", "contact"), request.user,
                                              pk=pk)
    form = ActivityForm(request.POST or None, instance=activity, user=request.user, kind=activity.kind)
    if request.method == "POST" and form.is_valid():
        services.activity_update(activity=activity, actor=request.user, **form.service_fields())
        messages.success(request, _("“%(subject)s” was saved.") % {"subject": activity.subject})
        return redirect(activity)
    return render(request, "activities/activity_form.html", {"form": form, "kind": activity.kind, "activity": activity,
                                                      "kind_label": activity.get_kind_display()})


@require_POST
def activity_complete(request, pk: int):
    activity = visibility.get_editable_or_404(Activity, request.user, pk=pk, kind=ActivityKind.TASK)
    services.activity_complete(activity=activity, actor=request.user)
    messages.success(request, _("Task “%(subject)s” is done.") % {"subject": activity.subject})
    return redirect(safe_next(request, activity.get_absolute_url()))


def activity_delete(request, pk: int):
    activity = visibility.get_editable_or_404(Activity, request.user, pk=pk)
    if request.method == "POST":
        services.activity_delete(activity=activity, actor=request.user)
        messages.success(request, _("“%(subject)s” was deleted.") % {"subject": activity.subject})
        target = activity.account.get_absolute_url() if activity.account_id else "home"
        return redirect(target)
    return render(request, "activities/activity_confirm_delete.html", {"activity": activity})


def timeline(request):
    """The timeline's "show older" and kind filter, as an htmx fragment or a full page."""
    from sales.models import Lead, Opportunity

    subjects = {"account": Account, "contact": Contact, "opportunity": Opportunity, "lead": Lead}
    name = next((key for key in subjects if request.GET.get(key)), None)
    if name is None:
        raise Http404
    subject = visibility.get_visible_or_404(subjects[name], request.user, pk=request.GET[name])
    page = timeline_page(user=request.user, **{name: subject}, kind=request.GET.get("kind", ""),
                         cursor=request.GET.get("cursor", ""))
    context = {"timeline": page, "timeline_cursor": request.GET.get("cursor", ""),
               "timeline_url": request.path + "?" + f"{name}={subject.pk}",
               "activity_kinds": ActivityKind.choices, "subject": subject}
    if request.htmx:
        return render(request, "activities/timeline_panel.html#items", context)
    return render(request, "activities/timeline_page.html", context)


# --- My day ----------------------------------------------------------------------


def first_of_each(activities, buckets: dict[str, Q], limit: int = 20) -> dict[str, list[Activity]]:
    """The first `limit` activities (by time) of each bucket, in one query: a row belongs to the first bucket
    whose condition it meets, and a window numbers the rows of each bucket (instead of a query per list)."""
    bucket = Case(*[When(condition, then=Value(name)) for name, condition in buckets.items()],
                  output_field=CharField())
    rows = (activities.filter(reduce(or_, buckets.values()))
            .annotate(bucket=bucket, rank=Window(RowNumber(), partition_by=[bucket],
                                                 order_by=[F("occurred_at").asc(), F("id").asc()]))
            .filter(rank__lte=limit).order_by("occurred_at", "id"))
    found: dict[str, list[Activity]] = {name: [] for name in buckets}
    for row in rows:
        found[row.bucket].append(row)
    return found


def home(request):
    """My day: overdue and today's tasks, today's meetings, recently changed records; a manager's team
    today. Each of the two activity blocks is one query (`first_of_each`): the page stays within its
    query budget (reports/tests/test_my_day.py)."""
    user = request.user
    today_start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    today_end = today_start + timedelta(days=1)
    before_today, today = Q(occurred_at__lt=today_start), Q(occurred_at__gte=today_start, occurred_at__lt=today_end)
    team_ids = list(visibility.managed_team_ids(user))
    open_task = Q(kind=ActivityKind.TASK, status=TaskStatus.OPEN)
    attending = Activity.attendees.through.objects.filter(user_id=user.pk).values("activity_id")
    mine = first_of_each(Activity.objects.alive().select_related("account", "contact"), {
        "overdue_tasks": Q(owner=user) & open_task & before_today,
        "today_tasks": Q(owner=user) & open_task & today,
        "today_meetings": Q(kind=ActivityKind.MEETING) & today & (Q(owner=user) | Q(pk__in=attending)),
    })
    context = {
        **mine,
        "recent_accounts": list(Account.objects.visible_to(user).filter(owner=user)
                                .order_by("-updated_at")[:6]),
        "recent_contacts": list(Contact.objects.visible_to(user).filter(owner=user)
                                .select_related("account").order_by("-updated_at")[:6]),
        "can_create_account": visibility.can_create(user, Account),
    }
    if team_ids:
        team = Activity.objects.alive().filter(team_id__in=team_ids).exclude(owner=user)
        context.update(first_of_each(team.select_related("owner", "account"), {
            "team_overdue": open_task & before_today,
            "team_today": today & Q(kind__in=[ActivityKind.MEETING, ActivityKind.TASK]),
        }))
        context["team_recent"] = list(Account.objects.visible_to(user).filter(team_id__in=team_ids)
                                      .exclude(owner=user).select_related("owner").order_by("-updated_at")[:8])
    context["panels"] = panels.render(request, user, target=panels.HOME)  # what other modules add to my day
    return render(request, "activities/home.html", context)

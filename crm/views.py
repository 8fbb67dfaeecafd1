from datetime import timedelta
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Count, Q
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache

from accounts.models import Account, AccountType
from contacts.models import Contact
from crm import mail, services, visibility
from crm.forms import CustomFieldForm, InviteUserForm, ProfileForm, TeamForm, TerritoryForm, UserEditForm
from crm.models import Activity, ActivityKind, CustomField, Team, Territory, User
from crm.pagination import COUNT_LIMIT
from crm.visibility import Scope, read_scope
from sales.models import Opportunity


def admin_required(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_admin:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


# --- Health ------------------------------------------------------------------


def _check_database() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        return cursor.fetchone() == (1,)


def _check_redis() -> bool:
    cache.set("healthz", "ok", 10)
    return cache.get("healthz") == "ok"


def _check_worker() -> bool:
    from crm.celery import app

    return bool(app.control.ping(timeout=1.0))


HEALTH_CHECKS = {"database": _check_database, "redis": _check_redis, "worker": _check_worker}


@login_not_required
@never_cache
def healthz(request):
    results = {}
    for name, check in HEALTH_CHECKS.items():
        try:
            results[name] = "ok" if check() else "down"
        except Exception:  # noqa: BLE001 - any failure means "down" for a load balancer
            results[name] = "down"
    down = [name for name, state in results.items() if state != "ok"]
    body = {"status": "ok" if not down else "down", "checks": results, "down": down}
    return JsonResponse(body, status=200 if not down else 503)


# --- Home and sections -------------------------------------------------------


def home(request):
    """My day: overdue and today's tasks, today's meetings, recently changed records."""
    user = request.user
    today_start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    today_end = today_start + timedelta(days=1)
    team_ids = list(visibility.managed_team_ids(user))
    mine = Activity.objects.alive().filter(owner=user)
    context = {
        "overdue_tasks": list(mine.open_tasks().filter(occurred_at__lt=today_start)
                              .select_related("account", "contact").order_by("occurred_at")[:20]),
        "today_tasks": list(mine.open_tasks().filter(occurred_at__gte=today_start, occurred_at__lt=today_end)
                            .select_related("account", "contact").order_by("occurred_at")[:20]),
        "today_meetings": list(
            Activity.objects.alive().filter(kind=ActivityKind.MEETING, occurred_at__gte=today_start,
                                            occurred_at__lt=today_end)
            .filter(Q(owner=user) | Q(attendees=user)).distinct()
            .select_related("account", "contact").order_by("occurred_at")[:20]),
        "recent_accounts": list(Account.objects.visible_to(user).filter(owner=user)
                                .order_by("-updated_at")[:6]),
        "recent_contacts": list(Contact.objects.visible_to(user).filter(owner=user)
                                .select_related("account").order_by("-updated_at")[:6]),
        "can_create_account": visibility.can_create(user, Account),
    }
    if team_ids:
        team = Activity.objects.alive().filter(team_id__in=team_ids).exclude(owner=user)
        context["team_overdue"] = list(team.open_tasks().filter(occurred_at__lt=today_start)
                                       .select_related("owner", "account").order_by("occurred_at")[:20])
        context["team_today"] = list(team.filter(occurred_at__gte=today_start, occurred_at__lt=today_end,
                                                 kind__in=[ActivityKind.MEETING, ActivityKind.TASK])
                                     .select_related("owner", "account").order_by("occurred_at")[:20])
        context["team_recent"] = list(Account.objects.visible_to(user).filter(team_id__in=team_ids)
                                      .exclude(owner=user).select_related("owner").order_by("-updated_at")[:8])
    return render(request, "crm/home.html", context)


def _accounts_by(user, field: str, limit: int = 12):
    return list(
        Account.objects.visible_to(user).values(field).annotate(total=Count("id")).order_by("-total")[:limit]
    )


def section_sales(request):
    labels = dict(AccountType.choices)
    by_type = [{**row, "label": labels.get(row["type"], row["type"])} for row in _accounts_by(request.user, "type")]
    latest = Account.objects.visible_to(request.user).select_related("owner").order_by("-created_at")[:10]
    context = {"by_type": by_type, "latest": latest}
    if read_scope(request.user, Opportunity) != Scope.NONE:
        context.update(sales_overview(request.user))
    return render(request, "crm/section_sales.html", context)


def sales_overview(user) -> dict:
    """The rep's or manager's sales at a glance: the default pipeline's open stages, the deals
    closing soonest, and what waits for them. A constant number of queries."""
    from django.db.models import Sum

    from sales.models import Invoice, Lead, StageKind
    from sales.quote_services import pending_approvals_for
    from sales.services import default_pipeline

    pipeline = default_pipeline()
    deals = Opportunity.objects.visible_to(user)
    stages = []
    if pipeline:
        figures = {row["stage_id"]: row for row in deals.filter(pipeline=pipeline, stage__kind=StageKind.OPEN)
                   .order_by().values("stage_id").annotate(count=Count("id"), total=Sum("amount_base"))}
        stages = [(stage, figures.get(stage.pk, {}).get("count", 0), figures.get(stage.pk, {}).get("total") or 0)
                  for stage in pipeline.stages.filter(active=True, kind=StageKind.OPEN)]
    return {
        "pipeline": pipeline,
        "pipeline_stages": stages,
        # What the user may see: a rep's own deals, a manager's team's, everyone's for executives.
        "closing_soon": list(deals.open().select_related("account", "stage", "owner")
                             .order_by("expected_close_date", "id")[:8]),
        "open_leads": Lead.objects.visible_to(user).open().order_by()[:COUNT_LIMIT + 1].count(),
        "count_limit": COUNT_LIMIT,
        "may_approve": user.is_admin or bool(visibility.managed_team_ids(user)),
        "approvals_waiting": pending_approvals_for(user).count(),  # admins: also requests with no manager
        "overdue_invoices": Invoice.objects.visible_to(user).overdue().count(),
        "default_currency": settings.DEFAULT_CURRENCY,
    }


def section_service(request):
    query = request.GET.get("q", "").strip()
    found = None
    if len(query) >= 2:
        found = (
            Account.objects.visible_to(request.user)
            .filter(name__icontains=query)
            .select_related("owner")
            .order_by("name")[:25]
        )
    return render(request, "crm/section_service.html", {"query": query, "found": found})


def section_marketing(request):
    context = {
        "by_industry": _accounts_by(request.user, "industry"),
        "by_country": _accounts_by(request.user, "country"),
    }
    return render(request, "crm/section_marketing.html", context)


def section_reports(request):
    by_owner = list(
        Account.objects.visible_to(request.user)
        .values("owner__first_name", "owner__last_name", "owner__email")
        .annotate(total=Count("id"))
        .order_by("-total")[:20]
    )
    by_type = _accounts_by(request.user, "type")
    labels = dict(AccountType.choices)
    chart = {
        "labels": [str(labels.get(row["type"], row["type"])) for row in by_type],
        "values": [row["total"] for row in by_type],
    }
    return render(request, "crm/section_reports.html", {"by_owner": by_owner, "chart": chart})


# --- Own profile -------------------------------------------------------------


def profile(request):
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Your profile was saved."))
        return redirect("profile")
    return render(request, "crm/profile.html", {"form": form})


# --- Administration: users, teams, territories, outbox ----------------------


@admin_required
def user_list(request):
    users = User.objects.select_related("team").prefetch_related("territories").order_by("-is_active", "first_name")
    return render(request, "crm/admin/user_list.html", {"users": users})


@admin_required
def user_invite(request):
    form = InviteUserForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        user = services.user_invite(
            email=data["email"], first_name=data["first_name"], last_name=data["last_name"], role=data["role"],
            team=data["team"], territories=list(data["territories"]), invited_by=request.user,
            base_url=request.build_absolute_uri("/"),
        )
        messages.success(request, _("Invitation sent to %(email)s.") % {"email": user.email})
        return redirect("user_list")
    return render(request, "crm/admin/user_form.html", {"form": form, "title": _("Invite a user")})


@admin_required
def user_edit(request, pk: int):
    user = get_object_or_404(User, pk=pk)
    form = UserEditForm(request.POST or None, instance=user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        services.user_update(user=user, role=data["role"], team=data["team"], territories=list(data["territories"]),
                             first_name=data["first_name"], last_name=data["last_name"])
        messages.success(request, _("%(user)s was saved.") % {"user": user})
        return redirect("user_list")
    return render(request, "crm/admin/user_form.html", {"form": form, "title": user, "edited": user})


@admin_required
def user_set_active(request, pk: int):
    if request.method != "POST":
        return redirect("user_list")
    user = get_object_or_404(User, pk=pk)
    active = request.POST.get("active") == "1"
    try:
        services.user_set_active(user=user, active=active, actor=request.user)
    except ValueError as error:
        messages.error(request, str(error))
    else:
        text = _("%(user)s can sign in again.") if active else _("%(user)s was deactivated and signed out.")
        messages.success(request, text % {"user": user})
    return redirect("user_list")


@admin_required
def team_list(request, pk: int | None = None):
    teams = Team.objects.select_related("manager").annotate(member_count=Count("members")).order_by("name")
    instance = get_object_or_404(Team, pk=pk) if pk else None
    form = TeamForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        saved = form.save()
        messages.success(request, _("%(name)s was saved.") % {"name": saved})
        return redirect("team_list")
    return render(request, "crm/admin/team_list.html", {"teams": teams, "form": form, "editing": instance})


@admin_required
def territory_list(request, pk: int | None = None):
    instance = get_object_or_404(Territory, pk=pk) if pk else None
    form = TerritoryForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        saved = form.save()
        messages.success(request, _("%(name)s was saved.") % {"name": saved})
        return redirect("territory_list")
    tree = _territory_tree(Territory.objects.all())
    return render(request, "crm/admin/territory_list.html", {"tree": tree, "form": form, "editing": instance})


def _territory_tree(territories) -> list[tuple[int, Territory]]:
    """Depth-first (depth, territory) pairs for an indented tree."""
    children: dict[int | None, list[Territory]] = {}
    for territory in territories:
        children.setdefault(territory.parent_id, []).append(territory)
    ordered: list[tuple[int, Territory]] = []

    def walk(parent_id, depth):
        for node in sorted(children.get(parent_id, []), key=lambda t: t.name):
            ordered.append((depth, node))
            walk(node.pk, depth + 1)

    walk(None, 0)
    return ordered


@admin_required
def custom_field_list(request, pk: int | None = None):
    instance = get_object_or_404(CustomField, pk=pk) if pk else None
    form = CustomFieldForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        saved = form.save()
        messages.success(request, _("%(name)s was saved.") % {"name": saved})
        return redirect("custom_field_list")
    fields = CustomField.objects.all()
    return render(request, "crm/admin/custom_fields.html", {"fields": fields, "form": form, "editing": instance})


@admin_required
def outbox(request):
    return render(request, "crm/admin/outbox.html", {"messages_list": mail.list_outbox()})


@admin_required
def outbox_message(request, name: str):
    message = mail.read_outbox_message(name)
    if message is None:
        raise Http404
    return render(request, "crm/admin/outbox_message.html", {"message": message})


# --- Sign-in pages -----------------------------------------------------------


class InviteAcceptView(auth_views.PasswordResetConfirmView):
    """An invitation is a password-reset link with a friendlier page."""

    template_name = "registration/invite_accept.html"
    success_url = reverse_lazy("login")
    post_reset_login = False

    def form_valid(self, form):
        messages.success(self.request, gettext_lazy("Your password is set. Please sign in."))
        return super().form_valid(form)


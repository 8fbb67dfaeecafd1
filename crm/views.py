from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Count
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache

from crm import mail, panels, services
from crm import outbox as mail_outbox
from crm.forms import CustomFieldForm, InviteUserForm, ProfileForm, TeamForm, TerritoryForm, UserEditForm
from crm.models import CustomField, Team, Territory, User


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
        if name == "worker" and results.get("redis") != "ok":
            results[name] = "down"  # workers are reached through Redis: no ping to wait for
            continue
        try:
            results[name] = "ok" if check() else "down"
        except Exception:  # noqa: BLE001 - any failure means "down" for a load balancer
            results[name] = "down"
    down = [name for name, state in results.items() if state != "ok"]
    body = {"status": "ok" if not down else "down", "checks": results, "down": down}
    # Reported, never a 503: queued mail waits for the server, the CRM works meanwhile.
    body["mail"] = _mail_health(database_up=results.get("database") == "ok")
    return JsonResponse(body, status=200 if not down else 503)


def _mail_health(*, database_up: bool) -> dict:
    """The outbox's last refusal by the mail server, if nothing was sent since (crm/outbox.py)."""
    if not database_up:
        return {"state": "unknown"}
    try:
        return mail_outbox.health()
    except Exception:  # noqa: BLE001 - a health page reports, it does not fail
        return {"state": "unknown"}


# --- Home and sections -------------------------------------------------------


# --- Own profile -------------------------------------------------------------


def profile(request):
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Your profile was saved."))
        return redirect("profile")
    return render(request, "crm/profile.html", {
        "form": form, "panels": panels.render(request, request.user, target=panels.PROFILE)})


# --- Administration: users, teams, territories, outbox ----------------------


@admin_required
def user_list(request):
    from crm import security

    users = list(User.objects.select_related("team").prefetch_related("territories")
                 .order_by("-is_active", "first_name"))
    locked = security.locked_addresses([person.email for person in users])
    for person in users:
        person.locked_until = locked.get(person.email.lower())
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
                             first_name=data["first_name"], last_name=data["last_name"], actor=request.user,
                             request=request)
        messages.success(request, _("%(user)s was saved.") % {"user": user})
        return redirect("user_list")
    from crm import security, two_factor

    return render(request, "crm/admin/user_form.html", {
        "form": form, "title": user, "edited": user,
        "locked_until": security.locked_addresses([user.email]).get(user.email.lower()),
        "two_factor_on": two_factor.is_enrolled(user),
    })


@admin_required
def user_set_active(request, pk: int):
    user = get_object_or_404(User, pk=pk)
    if request.method != "POST":
        return redirect("user_list")
    active = request.POST.get("active") == "1"
    try:
        services.user_set_active(user=user, active=active, actor=request.user, request=request)
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
        for node in sorted(children.get(parent_id, []), key=lambda t: str(t)):
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



def server_error(request):
    """The 500 page in the app's look, named as configured. It renders without the request's context
    processors or a database query: whatever failed must not fail the error page too."""
    from django.http import HttpResponseServerError
    from django.template import loader

    return HttpResponseServerError(loader.get_template("500.html").render({"app_name": settings.APP_NAME}))

from functools import cache

from django.apps import apps
from django.conf import settings

from crm.roles import Role
from crm.visibility import can_create, can_read, managed_team_ids


def navigation(request):
    """Which top-level section the page belongs to, for the active menu item; and the product's name."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return {"nav_section": "", "app_name": settings.APP_NAME}
    return {"nav_section": match.app_name or match.url_name or "", "app_name": settings.APP_NAME}


class _PerModel:
    """`may_create.opportunity`, `may_read.lead` in templates: the policy answer for the model of
    that name, computed when a template asks (the core names no module's model)."""

    def __init__(self, user, check):
        self.user, self.check, self.answers = user, check, {}

    def __getitem__(self, model_name: str) -> bool:
        if model_name not in self.answers:
            model = _policed_models().get(model_name)
            self.answers[model_name] = model is not None and self.check(self.user, model)
        return self.answers[model_name]


@cache
def _policed_models() -> dict:
    return {model._meta.model_name: model for model in apps.get_models() if hasattr(model, "visibility_policy")}


def notifications(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    # Once per request: record-page panels render their own templates with the request's context.
    if not hasattr(request, "crm_navigation"):
        request.crm_navigation = _navigation_for(user)
    return request.crm_navigation


def _navigation_for(user) -> dict:
    from crm.models import Notification

    sees_teams = user.is_admin or bool(managed_team_ids(user))
    # crm.backends.EmailBackend counts them with the user (one query for both); a user object
    # from elsewhere (a test's force_login keeps the backend, so this is rare) counts here.
    unread = getattr(user, "_unread_notifications", None)
    if unread is None:
        unread = Notification.objects.filter(user=user, read_at__isnull=True).count()
    return {
        "unread_notifications": unread,
        "may_create": _PerModel(user, can_create),
        "may_read": _PerModel(user, can_read),
        "can_hand_over": sees_teams,
        # Managers, executives and admins read team- and company-wide figures (receivables, approvals).
        "sees_team_figures": sees_teams or user.role == Role.EXECUTIVE,
    }

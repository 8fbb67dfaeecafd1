def navigation(request):
    """Which top-level section the page belongs to, for the active menu item."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return {"nav_section": ""}
    section = match.app_name or match.url_name or ""
    if (match.url_name or "").startswith("lead"):  # leads live in contacts/ but belong to the sales menu
        section = "sales"
    return {"nav_section": section}


def notifications(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    from accounts.models import Account
    from contacts.models import Contact
    from crm.models import Activity, Notification
    from crm.visibility import Scope, can_create, managed_team_ids, read_scope
    from sales.models import Lead, Opportunity

    return {
        "unread_notifications": Notification.objects.filter(user=user, read_at__isnull=True).count(),
        "may_create": {"activity": can_create(user, Activity), "account": can_create(user, Account),
                       "contact": can_create(user, Contact), "opportunity": can_create(user, Opportunity)},
        "can_hand_over": user.is_admin or bool(managed_team_ids(user)),
        "sales_menu": {"deals": read_scope(user, Opportunity) != Scope.NONE,
                       "leads": read_scope(user, Lead) != Scope.NONE,
                       "receivables": user.is_admin or user.role == "executive" or bool(managed_team_ids(user))},
    }

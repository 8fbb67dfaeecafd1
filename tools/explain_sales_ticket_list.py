"""EXPLAIN ANALYZE of the sales roles' ticket list (docs/benchmarks.md, "The sales manager's ticket list"):
the visibility as it is, `account_id IN (SELECT id FROM visible accounts)`, against the same condition as a
join on the account's owner and team. Run on a seeded database:

    DEBUG=1 python manage.py shell < tools/explain_sales_ticket_list.py
"""

from django.db.models import Q

from accounts.models import Account
from crm import visibility
from crm.models import User
from crm.roles import Role
from service.models import ACTIVE_STATUSES, Ticket


def joined(user) -> Q:
    scope_q = visibility._scope_q(user, visibility.read_scope(user, Account))
    condition = Q(account__deleted_at__isnull=True)
    return condition if scope_q is None else condition & visibility._prefixed(scope_q, "account")


def shapes(tickets):
    return {
        "open, newest first (default)": tickets.filter(status__in=ACTIVE_STATUSES).order_by("-created_at", "-id"),
        "all, newest first": tickets.order_by("-created_at", "-id"),
        "all, by number": tickets.order_by("number", "id"),
        "search 'принтер'": tickets.filter(search_text__icontains="принтер").order_by("-created_at", "-id"),
    }


for role in (Role.SALES_MANAGER, Role.SALES_REP):
    user = User.objects.filter(role=role, is_active=True).exclude(team=None).order_by("id").first()
    live = Ticket.objects.filter(deleted_at__isnull=True)
    variants = {"IN (subquery)": live.filter(account__in=Account.objects.visible_to(user).values("pk")),
                "join": live.filter(joined(user))}
    print(f"\n{role} {user.email}: {Account.objects.visible_to(user).count()} visible accounts, "
          f"{Ticket.objects.visible_to(user).count()} visible tickets of {Ticket.objects.count()}")
    for name, tickets in variants.items():
        for shape, rows in shapes(tickets).items():
            plan = rows[:51].explain(analyze=True)
            nodes = [line.strip().split("  (")[0] for line in plan.splitlines() if "->" in line][:3]
            time_line = next(line.strip() for line in plan.splitlines() if "Execution Time" in line)
            print(f"  {name:14} | {shape:30} | {time_line} | {' / '.join(nodes)}")

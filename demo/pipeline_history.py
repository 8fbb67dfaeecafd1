"""A year of closed deals for the demo, so the pipeline dashboard (/reports/) has periods to compare:
won and lost deals in every past month, across the demo's reps, regions and currencies, each walked
through its stages by the services and then moved back in time (created, stage changes, closed)."""

import datetime
import random
from decimal import Decimal

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from accounts.models import Account
from sales import services
from sales.models import LostReason, Opportunity, Pipeline, StageChange, StageKind

DEALS_PER_MONTH = (4, 8)


COMPETITORS = ["Northwind CRM", "Contoso Sales", "Битрикс-Софт", "Fabrikam"]


def needed() -> bool:
    """Only once: a demo database whose deals all closed lately gets the history."""
    long_ago = timezone.now() - datetime.timedelta(days=60)
    return Pipeline.objects.exists() and not Opportunity.objects.filter(closed_at__lt=long_ago).exists()


def load(rng: random.Random) -> int:
    pipeline = Pipeline.objects.filter(is_default=True).first() or Pipeline.objects.order_by("position").first()
    if pipeline is None:
        return 0
    stages = list(pipeline.stages.order_by("position"))
    open_stages = [stage for stage in stages if stage.kind == StageKind.OPEN]
    won = next(stage for stage in stages if stage.kind == StageKind.WON)
    lost = next(stage for stage in stages if stage.kind == StageKind.LOST)
    accounts = list(Account.objects.filter(deleted_at__isnull=True, owner__isnull=False).select_related("owner")
                    .order_by("id"))
    if not accounts:
        return 0
    now = timezone.now()
    made = 0
    for months_ago in range(12, 0, -1):
        for _number in range(rng.randint(*DEALS_PER_MONTH)):
            account = rng.choice(accounts)
            russian = account.country in ("Россия", "Казахстан")
            closed = now - datetime.timedelta(days=30 * months_ago + rng.randint(-14, 14), hours=rng.randint(0, 23))
            cycle = datetime.timedelta(days=rng.randint(12, 110))
            outcome = won if rng.random() < 0.55 else lost
            deal = services.opportunity_create(
                actor=account.owner, name=(f"{account.name}: заказ" if russian else f"{account.name} order")
                + f" {closed:%m/%Y}", account=account, pipeline=pipeline, stage=stages[0],
                amount=Decimal(rng.randint(4, 140) * 500) * (90 if russian else 1),
                currency="RUB" if russian else settings.DEFAULT_CURRENCY,
                expected_close_date=closed.date(), lead_source=rng.choice(["web", "referral", "event", "partner"]))
            walked = open_stages[1:rng.randint(1, len(open_stages))]
            for stage in walked:
                services.opportunity_move(opportunity=deal, stage=stage, actor=account.owner, expected_version=None)
            services.opportunity_move(opportunity=deal, stage=outcome, actor=account.owner, expected_version=None,
                                      lost_reason=rng.choice(LostReason.values) if outcome == lost else "")
            _back_date(deal, entered=closed - cycle, closed=closed)
            if outcome == lost:  # the competitors the sales team dashboard ranks (from the id: rng unchanged)
                first = deal.pk % len(COMPETITORS)
                names = COMPETITORS[first:first + deal.pk % 3]
                Opportunity.objects.filter(pk=deal.pk).update(competitors=", ".join(names))
            made += 1
    return made


def _back_date(deal: Opportunity, *, entered: datetime.datetime, closed: datetime.datetime) -> None:
    """Spreads the deal's stage changes evenly between the day it entered the pipeline and the day it closed."""
    changes = list(StageChange.objects.filter(opportunity=deal).order_by("changed_at", "id"))
    step = (closed - entered) / max(1, len(changes) - 1)
    for index, change in enumerate(changes):
        StageChange.objects.filter(pk=change.pk).update(
            changed_at=entered + step * index, seconds_in_previous=None if index == 0 else int(step.total_seconds()))
    Opportunity.objects.filter(pk=deal.pk).update(created_at=entered, closed_at=closed, stage_changed_at=closed,
                                                  lock_version=F("lock_version") + 1)

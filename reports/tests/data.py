"""Generated deals for the report tests: every kind, spread over this period, the previous one and the
next, in three currencies, across owners, regions, industries and lead sources."""

import datetime
import random
from decimal import Decimal

from django.utils import timezone

from accounts.tests.factories import AccountFactory
from sales.models import LostReason, StageChange
from sales.tests.factories import OpportunityFactory, stage

INDUSTRIES = ["Manufacturing", "manufacturing", "Retail", "Банки", ""]
SOURCES = ["web", "referral", "event", ""]


def deal(pipeline, owner, stage_name, amount, currency="EUR", *, closes=None, closed_at=None, entered=None, **extra):
    """A deal as the services leave it: won/lost deals have closed_at, every deal its first StageChange."""
    opportunity = OpportunityFactory(owner=owner, pipeline=pipeline, stage=stage(pipeline, stage_name),
                                     amount=Decimal(amount), currency=currency, closed_at=closed_at,
                                     expected_close_date=closes or timezone.localdate(), **extra)
    StageChange.objects.create(opportunity=opportunity, to_stage=opportunity.stage, amount=opportunity.amount,
                               probability=opportunity.probability,
                               changed_at=entered or (closed_at or timezone.now()) - datetime.timedelta(days=10))
    return opportunity


def at(day: datetime.date, hour=12) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=timezone.get_current_timezone())


def generate(pipeline, people, quarter, seed=12, count=60, territories=(), industries=()):
    """Deals of every kind spread over this quarter, the previous one and beyond, in three currencies."""
    generator = random.Random(seed)
    stages = ["Qualification", "Needs analysis", "Proposal", "Negotiation", "Won", "Lost"]
    first = quarter.previous().start
    span = (quarter.next().end - first).days
    deals = []
    for number in range(count):
        name = generator.choice(stages)
        day = first + datetime.timedelta(days=generator.randrange(span))
        closed = None
        extra = {"lead_source": generator.choice(SOURCES)}
        if territories or industries:
            owner = generator.choice(people)
            extra["owner"] = owner
            extra["account"] = AccountFactory(owner=owner, territory=generator.choice([*territories, None]),
                                              industry=generator.choice(industries or [""]))
        if name in ("Won", "Lost"):
            closed = at(day, generator.randrange(24))
            if name == "Lost":
                extra["lost_reason"] = generator.choice([*LostReason.values, ""])
        entered = (closed or timezone.now()) - datetime.timedelta(days=generator.randrange(1, 90),
                                                                   hours=generator.randrange(24))
        owner = extra.pop("owner", None) or generator.choice(people)
        deals.append(deal(pipeline, owner, name, f"{generator.randrange(100, 900000)}.{number:02d}",
                          generator.choice(["EUR", "USD", "RUB"]), closes=day, closed_at=closed, entered=entered,
                          name=f"Сделка {number}", **extra))
    return deals



"""A year of marketing for the demo, so the marketing dashboard (/reports/marketing/) has periods to compare:
monthly costs on the running campaigns, deals of the year's history attributed to them, and two newsletters a
month sent to the demo's contacts with what became of each message (bounced, opened, clicked, unsubscribed)."""

import datetime
import random
from decimal import Decimal

from django.db.models import Q
from django.utils import timezone

from contacts.models import Contact
from crm.models import User
from marketing.models import (
    Campaign,
    CampaignCost,
    DealAttribution,
    Delivery,
    DeliveryStatus,
    Mailing,
    MailingStatus,
    StaticList,
    StaticListMember,
)
from sales.models import Opportunity, StageKind

SUBJECTS = ["Product news for {month}", "New in the catalogue: {month}", "Webinar invitation ({month})",
            "Новинки месяца: {month}"]


def needed() -> bool:
    return Campaign.objects.exists() and not Delivery.objects.exists()


def _month_start(today: datetime.date, back: int) -> datetime.date:
    index = today.year * 12 + today.month - 1 - back
    return datetime.date(index // 12, index % 12 + 1, 1)


def load(rng: random.Random) -> int:
    """Returns how many messages it recorded."""
    marketer = User.objects.filter(email="marketing@demo.crm").first()
    campaigns = list(Campaign.objects.filter(status__in=["active", "completed"]).order_by("id"))
    if marketer is None or not campaigns:
        return 0
    today = timezone.localdate()
    zone = timezone.get_current_timezone()
    contacts = list(Contact.objects.filter(deleted_at__isnull=True).exclude(emails=[]).order_by("id")[:60])
    audience, _created = StaticList.objects.get_or_create(
        name="Newsletter subscribers", defaults={"owner": marketer, "team": marketer.team,
                                                 "description": "Everyone who asked for the monthly news."})
    StaticListMember.objects.bulk_create([StaticListMember(static_list=audience, contact=contact)
                                          for contact in contacts], ignore_conflicts=True)
    # A year's won and open deals: about a third of them came from a campaign.
    for deal in Opportunity.objects.filter(Q(stage__kind=StageKind.WON) | Q(stage__kind=StageKind.OPEN),
                                           attribution__isnull=True).order_by("id"):
        if rng.random() < 0.35:
            DealAttribution.objects.create(opportunity=deal, campaign=rng.choice(campaigns),
                                           attributed_at=deal.created_at)
    sent = 0
    for back in range(12, -1, -1):
        month = _month_start(today, back)
        for campaign in rng.sample(campaigns, min(3, len(campaigns))):
            amount = Decimal(rng.randrange(300, 4000)) * (90 if campaign.currency == "RUB" else 1)
            day = min(today, month + datetime.timedelta(days=rng.randrange(27)))
            CampaignCost.objects.create(campaign=campaign, description=f"Advertising {month:%m/%Y}", amount=amount,
                                        incurred_on=day, created_by=marketer)
        for number in range(2):
            day = month + datetime.timedelta(days=3 + number * 14)
            if day > today:
                continue
            started = datetime.datetime.combine(day, datetime.time(9, 30), tzinfo=zone)
            subject = rng.choice(SUBJECTS).format(month=f"{month:%m/%Y}")
            mailing = Mailing.objects.create(
                owner=marketer, team=marketer.team, campaign=rng.choice(campaigns), static_list=audience,
                subject=subject, body="Hello {first_name}, here is what is new this month.",
                status=MailingStatus.SENT, started_at=started, finished_at=started + datetime.timedelta(hours=1))
            engaged = rng.uniform(0.2, 0.5)  # some newsletters land better than others
            rows = []
            for contact in rng.sample(contacts, min(len(contacts), rng.randrange(25, 60))):
                bounce = rng.choices(["", "soft", "hard"], weights=[92, 5, 3])[0]
                opened = not bounce and rng.random() < engaged
                rows.append(Delivery(
                    mailing=mailing, contact=contact, email=contact.emails[0], status=DeliveryStatus.SENT,
                    sent_at=started, bounce=bounce, bounced_at=started if bounce else None,
                    opened_at=started + datetime.timedelta(hours=rng.randrange(1, 48)) if opened else None,
                    clicked_at=started + datetime.timedelta(hours=50) if opened and rng.random() < 0.4 else None,
                    unsubscribed_at=started + datetime.timedelta(hours=60) if opened and rng.random() < 0.04
                    else None))
            Delivery.objects.bulk_create(rows)
            sent += len(rows)
    return sent

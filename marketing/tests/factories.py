import datetime
from decimal import Decimal

import factory
from django.utils import timezone

from crm.tests.factories import UserFactory
from marketing.models import Campaign, CampaignStatus, CampaignType


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    name = factory.Sequence(lambda n: f"Campaign {n}")
    type = CampaignType.EMAIL
    status = CampaignStatus.ACTIVE
    owner = factory.SubFactory(UserFactory)
    team = factory.LazyAttribute(lambda campaign: campaign.owner.team)
    start_date = factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=10))
    budget = Decimal("1000.00")
    currency = "EUR"

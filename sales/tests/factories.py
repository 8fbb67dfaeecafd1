import datetime
from decimal import Decimal

import factory
from django.utils import timezone

from accounts.tests.factories import AccountFactory
from crm.tests.factories import UserFactory
from sales.models import Lead, Opportunity, Pipeline, PriceBook, PriceBookEntry, Product, Stage, StageKind

DEFAULT_STAGES = [
    ("Qualification", 10, StageKind.OPEN),
    ("Needs analysis", 25, StageKind.OPEN),
    ("Proposal", 50, StageKind.OPEN),
    ("Negotiation", 75, StageKind.OPEN),
    ("Won", 100, StageKind.WON),
    ("Lost", 0, StageKind.LOST),
]


class PipelineFactory(factory.django.DjangoModelFactory):
    """A pipeline with the usual six stages (four open, won, lost)."""

    class Meta:
        model = Pipeline
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Pipeline {n}")

    @factory.post_generation
    def stages(pipeline, create, extracted, **kwargs):
        for position, (name, probability, kind) in enumerate(extracted or DEFAULT_STAGES):
            Stage.objects.create(pipeline=pipeline, name=name, position=position, probability=probability, kind=kind)


def stage(pipeline: Pipeline, name: str) -> Stage:
    return pipeline.stages.get(name=name)


class OpportunityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Opportunity

    name = factory.Sequence(lambda n: f"Deal {n}")
    owner = factory.SubFactory(UserFactory)
    team = factory.LazyAttribute(lambda opp: opp.owner.team)
    account = factory.SubFactory(AccountFactory, owner=factory.SelfAttribute("..owner"))
    pipeline = factory.SubFactory(PipelineFactory)
    stage = factory.LazyAttribute(lambda opp: opp.pipeline.stages.order_by("position").first())
    amount = Decimal("10000.00")
    amount_base = factory.LazyAttribute(lambda opp: opp.amount)
    probability = factory.LazyAttribute(lambda opp: opp.stage.probability)
    expected_close_date = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=30))


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.Sequence(lambda n: f"Product {n}")
    family = "Software"
    default_price = Decimal("100.00")
    tax_rate = Decimal("20.00")


class PriceBookFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PriceBook

    name = factory.Sequence(lambda n: f"Price book {n}")


class PriceBookEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PriceBookEntry

    price_book = factory.SubFactory(PriceBookFactory)
    product = factory.SubFactory(ProductFactory)
    unit_price = Decimal("90.00")


class LeadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lead

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    company = factory.Faker("company")
    email = factory.LazyAttribute(lambda lead: f"{lead.first_name}.{lead.last_name}@example.org".lower())
    owner = factory.SubFactory(UserFactory)
    team = factory.LazyAttribute(lambda lead: lead.owner.team if lead.owner else None)

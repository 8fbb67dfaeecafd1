"""Opportunity services: stage moves and their history, won/lost rules, optimistic locking,
currency conversion, pipelines."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from accounts.tests.factories import AccountFactory
from sales import services
from sales.models import CurrencyRate, Opportunity, StageChange, StageKind
from sales.tests.factories import OpportunityFactory, PipelineFactory, stage

pytestmark = pytest.mark.django_db


def create(owner, pipeline, **fields):
    defaults = {"name": "Big deal", "account": AccountFactory(owner=owner), "pipeline": pipeline,
                "stage": stage(pipeline, "Qualification"), "amount": Decimal("5000"),
                "expected_close_date": datetime.date(2026, 12, 31)}
    return services.opportunity_create(actor=owner, **{**defaults, **fields})


def test_create_takes_the_stage_probability_and_records_the_first_stage(owner):
    pipeline = PipelineFactory()
    deal = create(owner, pipeline)
    assert deal.probability == 10
    assert deal.team == owner.team
    assert deal.amount_base == Decimal("5000.00")
    change = StageChange.objects.get(opportunity=deal)
    assert change.from_stage is None and change.to_stage.name == "Qualification" and change.changed_by == owner


def test_a_move_records_from_to_who_and_time_in_the_previous_stage(owner):
    pipeline = PipelineFactory()
    deal = create(owner, pipeline)
    services.opportunity_move(opportunity=deal, stage=stage(pipeline, "Proposal"), actor=owner,
                              expected_version=deal.lock_version)
    deal.refresh_from_db()
    assert deal.probability == 50
    assert deal.lock_version == 2
    last = deal.stage_changes.first()
    assert (last.from_stage.name, last.to_stage.name) == ("Qualification", "Proposal")
    assert last.seconds_in_previous is not None
    assert deal.closed_at is None


def test_won_sets_probability_100_and_the_close_time(owner):
    pipeline = PipelineFactory()
    deal = create(owner, pipeline)
    services.opportunity_move(opportunity=deal, stage=stage(pipeline, "Won"), actor=owner, expected_version=1)
    deal.refresh_from_db()
    assert deal.probability == 100 and deal.closed_at is not None
    assert Opportunity.objects.won().filter(pk=deal.pk).exists()


def test_lost_needs_a_reason_and_changes_nothing_without_one(owner):
    pipeline = PipelineFactory()
    deal = create(owner, pipeline)
    with pytest.raises(ValidationError):
        services.opportunity_move(opportunity=deal, stage=stage(pipeline, "Lost"), actor=owner, expected_version=1)
    fresh = Opportunity.objects.get(pk=deal.pk)
    assert fresh.stage.name == "Qualification" and fresh.lock_version == 1
    assert StageChange.objects.filter(opportunity=deal).count() == 1
    services.opportunity_move(opportunity=fresh, stage=stage(pipeline, "Lost"), actor=owner, expected_version=1,
                              lost_reason="price", lost_note="Too expensive")
    fresh.refresh_from_db()
    assert fresh.stage.kind == StageKind.LOST and fresh.probability == 0 and fresh.lost_reason == "price"


def test_reopening_a_lost_deal_clears_the_reason_and_close_time(owner):
    pipeline = PipelineFactory()
    deal = create(owner, pipeline, stage=stage(pipeline, "Lost"), lost_reason="timing")
    services.opportunity_move(opportunity=deal, stage=stage(pipeline, "Negotiation"), actor=owner,
                              expected_version=1)
    deal.refresh_from_db()
    assert deal.lost_reason == "" and deal.closed_at is None and deal.probability == 75


def test_a_stale_move_is_refused_and_the_first_move_stays(owner, manager):
    """Two people drag the same card: both saw version 1; the second one is told, not silently applied."""
    pipeline = PipelineFactory()
    deal = create(owner, pipeline)
    first_view = Opportunity.objects.get(pk=deal.pk)
    second_view = Opportunity.objects.get(pk=deal.pk)
    services.opportunity_move(opportunity=first_view, stage=stage(pipeline, "Proposal"), actor=owner,
                              expected_version=1)
    with pytest.raises(services.StaleWrite) as refused:
        services.opportunity_move(opportunity=second_view, stage=stage(pipeline, "Won"), actor=manager,
                                  expected_version=1)
    assert refused.value.current.stage.name == "Proposal"
    deal.refresh_from_db()
    assert deal.stage.name == "Proposal" and deal.stage_changes.count() == 2


def test_a_stage_of_another_pipeline_is_refused(owner):
    pipeline, other = PipelineFactory(), PipelineFactory()
    with pytest.raises(ValidationError):
        create(owner, pipeline, stage=stage(other, "Proposal"))


def test_amounts_in_another_currency_are_converted_for_sums(owner, settings):
    settings.DEFAULT_CURRENCY = "EUR"
    pipeline = PipelineFactory()
    with pytest.raises(ValidationError):
        create(owner, pipeline, currency="USD")
    CurrencyRate.objects.create(currency="USD", rate=Decimal("0.9"))
    deal = create(owner, pipeline, currency="USD", amount=Decimal("1000.00"))
    assert deal.amount_base == Decimal("900.00")


def test_changing_the_owner_moves_the_deal_to_their_team(owner, outsider):
    deal = OpportunityFactory(owner=owner)
    services.opportunity_update(opportunity=deal, actor=owner, owner=outsider)
    deal.refresh_from_db()
    assert deal.team == outsider.team


def test_document_numbers_are_gap_free_per_year():
    first = services.next_number("quote", "Q", on=datetime.date(2026, 3, 1))
    second = services.next_number("quote", "Q", on=datetime.date(2026, 4, 1))
    next_year = services.next_number("quote", "Q", on=datetime.date(2027, 1, 2))
    assert (first, second, next_year) == ("Q-2026-0001", "Q-2026-0002", "Q-2027-0001")


@pytest.mark.parametrize(("amount", "probability", "currency", "weighted"), [
    ("10000.00", 25, "EUR", "2500.00"),
    ("333.33", 33, "RUB", "110.00"),  # 109.9989 rounded to the kopeck
    ("1000", 0, "UAH", "0.00"),
    ("125000", 100, "JPY", "125000"),
])
def test_the_weighted_amount_is_the_amount_times_the_probability(amount, probability, currency, weighted):
    deal = Opportunity(amount=Decimal(amount), probability=probability, currency=currency)
    assert deal.weighted_amount == Decimal(weighted)

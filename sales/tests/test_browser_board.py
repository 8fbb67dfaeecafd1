"""The kanban board driven as a person would, in the system Chromium."""

import pytest
from playwright.sync_api import expect

from conftest import sign_in
from sales import services
from sales.models import Opportunity, StageChange
from sales.tests.factories import OpportunityFactory, PipelineFactory, stage

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser"), pytest.mark.django_db(transaction=True)]


def column(page, name):
    return page.locator(".board-column", has=page.get_by_role("heading", name=name)).locator(".board-cards")


def test_drag_a_deal_across_the_board_to_won_and_another_to_lost(page, owner):
    pipeline = PipelineFactory(name="New business", is_default=True)
    OpportunityFactory(owner=owner, pipeline=pipeline, stage=stage(pipeline, "Proposal"), name="Acme rollout")
    OpportunityFactory(owner=owner, pipeline=pipeline, stage=stage(pipeline, "Proposal"), name="Globex pilot")
    page.set_viewport_size({"width": 1700, "height": 900})  # all six columns side by side
    sign_in(page, owner)
    page.goto(f"/sales/board/{pipeline.pk}/")
    card = page.locator(".board-card", has_text="Acme rollout")
    expect(card).to_be_visible()

    card.drag_to(column(page, "Negotiation"))
    expect(page.locator(".toast", has_text="Acme rollout moved to Negotiation")).to_be_visible()
    page.locator(".board-card", has_text="Acme rollout").drag_to(column(page, "Won"))
    expect(page.locator(".toast", has_text="Acme rollout moved to Won")).to_be_visible()
    expect(column(page, "Won").locator(".board-card", has_text="Acme rollout")).to_be_visible()
    won_count = page.locator(f'[data-figure="count"][data-stage="{stage(pipeline, "Won").pk}"]')
    expect(won_count).to_have_text("1")
    deal = Opportunity.objects.get(name="Acme rollout")
    assert deal.stage.name == "Won" and deal.probability == 100
    moves = StageChange.objects.filter(opportunity=deal).order_by("changed_at")
    assert [(c.from_stage.name, c.to_stage.name, c.changed_by) for c in moves] == [
        ("Proposal", "Negotiation", owner), ("Negotiation", "Won", owner)]

    # Lost asks why; cancelling puts the card back, a reason moves it.
    page.locator(".board-card", has_text="Globex pilot").drag_to(column(page, "Lost"))
    dialog = page.get_by_role("dialog", name="Why was the deal lost?")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Cancel").click()
    expect(column(page, "Proposal").locator(".board-card", has_text="Globex pilot")).to_be_visible()
    page.locator(".board-card", has_text="Globex pilot").drag_to(column(page, "Lost"))
    dialog.get_by_label("Reason").select_option("competitor")
    dialog.get_by_role("button", name="Mark as lost").click()
    expect(page.locator(".toast", has_text="Globex pilot moved to Lost")).to_be_visible()
    assert Opportunity.objects.get(name="Globex pilot").lost_reason == "competitor"
    assert not page.console_errors and not page.failed_requests


def test_a_card_moved_meanwhile_by_someone_else_goes_back_with_a_message(page, owner, manager):
    pipeline = PipelineFactory(name="New business", is_default=True)
    deal = OpportunityFactory(owner=owner, pipeline=pipeline, stage=stage(pipeline, "Proposal"), name="Initech")
    sign_in(page, owner)
    page.goto(f"/sales/board/{pipeline.pk}/")
    expect(page.locator(".board-card", has_text="Initech")).to_be_visible()
    # The manager moves it while the rep looks at the board.
    services.opportunity_move(opportunity=deal, stage=stage(pipeline, "Negotiation"), actor=manager,
                              expected_version=1)
    page.locator(".board-card", has_text="Initech").drag_to(column(page, "Won"))
    expect(page.locator(".toast", has_text="changed by someone else")).to_be_visible()
    expect(column(page, "Negotiation").locator(".board-card", has_text="Initech")).to_be_visible(timeout=10_000)
    assert Opportunity.objects.get(pk=deal.pk).stage.name == "Negotiation"

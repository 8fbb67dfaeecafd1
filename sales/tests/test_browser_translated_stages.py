"""An admin names a stage in Russian; a Russian rep works the board in Russian (crm/translated.py)."""

import pytest
from playwright.sync_api import expect

from conftest import sign_in
from sales.models import Stage
from sales.tests.factories import OpportunityFactory, PipelineFactory, stage

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser"), pytest.mark.django_db(transaction=True)]


def test_an_admin_names_stages_in_russian_and_a_russian_rep_sees_them(page, admin_user, owner):
    pipeline = PipelineFactory(name="New business", is_default=True)
    OpportunityFactory(owner=owner, pipeline=pipeline, stage=stage(pipeline, "Proposal"), name="Поставка серверов")
    page.set_viewport_size({"width": 1366, "height": 900})
    sign_in(page, admin_user)
    page.goto(f"/sales/pipelines/{pipeline.pk}/")
    page.locator("#id_name_ru").fill("Новые продажи")
    row = page.locator("#stage-table tbody tr", has=page.locator('input[value="Proposal"]'))
    row.get_by_text("In other languages").click()
    row.get_by_label("Name in Russian").fill("Коммерческое предложение")
    row.get_by_label("Name in Ukrainian").fill("Комерційна пропозиція")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("link", name="New business")).to_be_visible()
    assert Stage.objects.get(pipeline=pipeline, name="Proposal").translations == {
        "ru": "Коммерческое предложение", "uk": "Комерційна пропозиція"}

    owner.language = "ru"
    owner.save(update_fields=["language"])
    page.context.clear_cookies()
    sign_in(page, owner)
    page.goto(f"/sales/board/{pipeline.pk}/")
    expect(page.get_by_role("heading", name="Канбан-доска · Новые продажи")).to_be_visible()
    column = page.locator(".board-column", has=page.get_by_role("heading", name="Коммерческое предложение"))
    expect(column.locator(".board-card", has_text="Поставка серверов")).to_be_visible()
    page.get_by_role("link", name="Поставка серверов").click()
    expect(page.locator("#current-stage")).to_have_text("Коммерческое предложение")

import pytest
from playwright.sync_api import expect

from accounts.tests.factories import AccountFactory
from conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser"), pytest.mark.django_db(transaction=True)]


def test_export_the_filtered_list_and_download_it(page, owner, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    AccountFactory(owner=owner, name="Export Me Ltd", type="partner")
    AccountFactory(owner=owner, name="Not Me Ltd", type="customer")
    sign_in(page, owner)
    page.goto("/accounts/?type=partner")
    page.locator("#export-list").click()
    expect(page.locator("#download-export")).to_be_visible(timeout=15_000)
    with page.expect_download() as download_info:
        page.locator("#download-export").click()
    content = download_info.value.path().read_text(encoding="utf-8-sig")
    assert "Export Me Ltd" in content and "Not Me Ltd" not in content
    page.goto("/exports/")
    expect(page.locator("table")).to_contain_text("type=partner")

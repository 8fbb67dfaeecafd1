"""A Russian rep and a UK rep, on one running system, each save, find and look up a contact by
a number typed the way their country writes it."""

import re

import pytest
from playwright.sync_api import expect

from conftest import sign_in
from contacts.models import Contact
from crm.models import Role
from crm.tests.factories import TeamFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser"), pytest.mark.django_db(transaction=True)]

SAVE = re.compile("^(Save|Сохранить)$")


@pytest.fixture
def ru_rep(db):
    return UserFactory(email="ivanov@example.ru", first_name="Дмитрий", last_name="Иванов", role=Role.SALES_REP,
                       team=TeamFactory(name="Продажи Россия", country="RU"), language="ru")


@pytest.fixture
def uk_rep(db):
    return UserFactory(email="porter@example.co.uk", first_name="Ryan", last_name="Porter", role=Role.SALES_REP,
                       team=TeamFactory(name="Europe Sales", country="GB"))


@pytest.fixture
def second_page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def save_contact(page, first, last, number, example):
    page.goto("/contacts/new/")
    expect(page.locator("#id_phones")).to_have_attribute("placeholder", example)  # the rep's own country
    page.locator("#id_first_name").fill(first)
    page.locator("#id_last_name").fill(last)
    page.locator("#id_phones").fill(number)
    page.get_by_role("button", name=SAVE).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"{first} {last}")


def find(page, typed, name):
    page.keyboard.press("/")
    expect(page.locator("#global-search")).to_be_focused()
    page.keyboard.type(typed)
    expect(page.locator("#search-dropdown")).to_contain_text(name)


def look_up(page, typed, name):
    page.locator("#quick-create").click()
    page.locator("#log-call").click()
    page.wait_for_load_state()
    page.locator("#caller-phone").fill(typed)
    expect(page.locator(".caller-hit")).to_contain_text(name, timeout=20_000)  # debounced lookup


def test_russian_and_uk_reps_save_find_and_look_up_national_numbers(page, second_page, ru_rep, uk_rep):
    russian, british = page, second_page
    sign_in(russian, ru_rep)
    sign_in(british, uk_rep)

    save_contact(russian, "Алексей", "Волков", "8 (912) 345-67-89", "8 (912) 345-67-89")
    expect(russian.locator("a[href='tel:+79123456789']")).to_have_text("+7 912 345-67-89")
    save_contact(british, "Grace", "Hopper", "020 7946 0123", "07400 123456")
    expect(british.locator("a[href='tel:+442079460123']")).to_have_text("+44 20 7946 0123")
    assert sorted(Contact.objects.values_list("phones", flat=True)) == [["+442079460123"], ["+79123456789"]]

    find(russian, "89123456789", "Алексей Волков")
    find(british, "02079460123", "Grace Hopper")

    look_up(russian, "8 912 345 67 89", "Алексей Волков")
    look_up(british, "(020) 7946-0123", "Grace Hopper")
    # The call form's example is the rep's country's.
    expect(russian.locator("#caller-phone")).to_have_attribute("placeholder", "8 (912) 345-67-89")
    assert not russian.console_errors


def test_a_wrong_number_is_explained_in_russian_with_a_russian_example(page, ru_rep):
    sign_in(page, ru_rep)
    page.goto("/contacts/new/")
    page.locator("#id_first_name").fill("Алексей")
    page.locator("#id_last_name").fill("Волков")
    page.locator("#id_phones").fill("8 (912) 345")
    page.get_by_role("button", name=SAVE).click()
    error = page.locator("#id_phones_error")
    expect(error).to_contain_text("8 (912) 345-67-89")
    expect(error).to_contain_text("Россия")
    expect(error).not_to_contain_text("+44")
    assert not Contact.objects.exists()

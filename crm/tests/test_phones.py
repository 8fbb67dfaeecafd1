"""Phones belong to a country: the record's, else the user's (own setting, team, territory).

Russian and Ukrainian national formats ("8 (912) 345-67-89", "0 44 123 4567") and UK ones
("020 7946 0000") must work on one running system, in forms, the API, search, the list
filters, the caller lookup and the import.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from accounts.models import Account
from accounts.tests.factories import AccountFactory
from contacts.models import Contact
from contacts.tests.factories import ContactFactory
from crm import phones, search
from crm.models import Role
from crm.tests.factories import TeamFactory, TerritoryFactory, UserFactory
from sales.models import Lead

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def ru_rep(db):
    team = TeamFactory(name="Продажи Москва", country="RU")
    return UserFactory(email="ivanov@example.ru", first_name="Дмитрий", last_name="Иванов", role=Role.SALES_REP,
                       team=team, language="ru")


@pytest.fixture
def uk_rep(db):
    team = TeamFactory(name="London Sales", country="GB")
    return UserFactory(email="porter@example.co.uk", first_name="Ryan", last_name="Porter", role=Role.SALES_REP,
                       team=team)


# --- Reading a number --------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "region", "e164"), [
    ("8 (912) 345-67-89", "RU", "+79123456789"),
    ("+7 916 638-38-11", "RU", "+79166383811"),
    ("+7 916 638-38-11", "GB", "+79166383811"),  # with its country code: the region does not matter
    ("89166383811", "RU", "+79166383811"),
    ("8-916-638-38-11", "RU", "+79166383811"),
    ("9166383811", "RU", "+79166383811"),
    ("0 44 123 4567", "UA", "+380441234567"),  # Kyiv
    ("044 123 45 67", "UA", "+380441234567"),
    ("8 044 123 45 67", "UA", "+380441234567"),  # the trunk "8 0xx" Ukrainians still type
    ("020 7946 0000", "GB", "+442079460000"),
    ("0044 20 7946 0000", "RU", "+442079460000"),
    ("8-10-44-20-7946-0000", "RU", "+442079460000"),  # "8 10": Russia's old international prefix
])
def test_national_numbers_are_read_in_their_country(raw, region, e164):
    assert phones.normalize_phone(raw, region) == e164


def test_the_same_digits_are_another_country_s_number_or_none():
    assert phones.normalize_phone("89166383811", "GB") is None
    assert phones.normalize_phone("020 7946 0000", "RU") is None
    assert phones.normalize_phone("8 (912) 345-67-89") is None  # the default region (GB) stays the default


def test_candidates_try_each_region_in_turn():
    assert phones.phone_candidates("8 (916) 638-38-11", ["GB", "RU", "UA"]) == ["+79166383811"]
    assert phones.phone_candidates("020 7946 0000", ["RU", "UA", "GB"]) == ["+442079460000"]
    assert phones.phone_candidates("+7 916 638-38-11", ["GB", "RU"]) == ["+79166383811"]
    assert phones.phone_candidates("hello", ["RU"]) == []


@pytest.mark.parametrize(("country", "region"), [
    ("Россия", "RU"), ("Российская Федерация", "RU"), ("Russia", "RU"), ("RU", "RU"), ("ru", "RU"),
    ("Україна", "UA"), ("Украина", "UA"), ("Ukraine", "UA"), ("United Kingdom", "GB"), ("UK", "GB"),
    ("Великобритания", "GB"), ("Germany", "DE"), ("  germany ", "DE"), ("Европа", None), ("", None), (None, None),
])
def test_country_fields_name_a_region(country, region):
    assert phones.region_for_country(country) == region


def test_user_region_own_setting_then_team_then_territory_then_default(settings):
    settings.PHONE_DEFAULT_REGION = "GB"
    russia = TerritoryFactory(name="Россия")
    moscow = TerritoryFactory(name="Москва", parent=TerritoryFactory(name="Центр", parent=russia))
    user = UserFactory(team=TeamFactory(country=""))
    assert phones.user_region(UserFactory()) == "GB"  # nothing known: the default
    user.territories.set([moscow])
    assert phones.user_region(user) == "RU"  # Москва › Центр › Россия
    user = type(user).objects.get(pk=user.pk)
    user.team.country = "UA"
    user.team.save()
    assert phones.user_region(user) == "UA"  # the team's country first
    user = type(user).objects.get(pk=user.pk)
    user.phone_region = "KZ"
    assert phones.user_region(user) == "KZ"  # the person's own setting before everything


def test_user_region_costs_one_query_per_request(uk_rep):
    with CaptureQueriesContext(connection) as queries:
        assert phones.user_region(uk_rep) == "GB"
        assert phones.user_region(uk_rep) == "GB"
        assert phones.search_regions(uk_rep) == ["GB", "RU", "UA"]
    assert len(queries) == 1


def test_the_record_s_country_wins_over_the_user_s(uk_rep):
    assert phones.phone_region(uk_rep, "Россия") == "RU"
    assert phones.phone_region(uk_rep, "") == "GB"
    assert phones.phone_region(uk_rep, "Atlantis") == "GB"


def test_the_message_uses_the_user_s_language_and_country():
    with translation.override("ru"):
        message = phones.invalid_phone_message("12-34", "RU")
    assert "12-34" in message and "8 (912) 345-67-89" in message and "+7 912 345-67-89" in message
    assert "Россия" in message and "+44" not in message
    assert "020" in phones.invalid_phone_message("12-34", "GB") or "07400" in phones.invalid_phone_message("1", "GB")


# --- Forms ---------------------------------------------------------------------------------


def test_russian_rep_saves_a_contact_with_a_national_number(client, ru_rep):
    client.force_login(ru_rep)
    response = client.post(reverse("contacts:create"), {
        "first_name": "Алексей", "middle_name": "Петрович", "last_name": "Волков",
        "phones": "8 (912) 345-67-89\n89166383811", "owner": ru_rep.pk})
    assert response.status_code == 302, response.context["form"].errors
    assert Contact.objects.get().phones == ["+79123456789", "+79166383811"]


def test_uk_rep_saves_a_contact_with_a_national_number_on_the_same_system(client, uk_rep, ru_rep):
    client.force_login(uk_rep)
    response = client.post(reverse("contacts:create"), {"first_name": "Grace", "last_name": "Hopper",
                                                        "phones": "020 7946 0000", "owner": uk_rep.pk})
    assert response.status_code == 302, response.context["form"].errors
    assert Contact.objects.get().phones == ["+442079460000"]


def test_a_contact_s_number_is_read_in_its_account_s_country(client, uk_rep):
    account = AccountFactory(owner=uk_rep, name="ООО «Ромашка»", country="Россия")
    client.force_login(uk_rep)
    response = client.post(reverse("contacts:create"), {"first_name": "Ivan", "last_name": "Petrov",
                                                        "account": account.pk, "phones": "8 (912) 345-67-89",
                                                        "owner": uk_rep.pk})
    assert response.status_code == 302, response.context["form"].errors
    assert Contact.objects.get().phones == ["+79123456789"]


def test_a_wrong_number_is_refused_in_russian_with_a_russian_example(client, ru_rep):
    client.force_login(ru_rep)
    response = client.post(reverse("contacts:create"), {"first_name": "Алексей", "last_name": "Волков",
                                                        "phones": "8 (912) 345", "owner": ru_rep.pk},
                           HTTP_ACCEPT_LANGUAGE="ru")
    assert response.status_code == 200 and not Contact.objects.exists()
    error = str(response.context["form"].errors["phones"])
    assert "8 (912) 345-67-89" in error and "+44" not in error and "не" in error


def test_account_form_reads_the_number_in_the_country_typed_with_it(client, uk_rep):
    client.force_login(uk_rep)
    response = client.post(reverse("accounts:create"), {
        "name": "ООО «Вектор»", "type": "customer", "country": "Россия", "phone": "8 (495) 123-45-67",
        "owner": uk_rep.pk})
    assert response.status_code == 302, response.context["form"].errors
    account = Account.objects.get()
    # Stored in international format, so no later reader can take it for a UK number.
    assert account.phone == "+7 495 123-45-67" and account.phone_e164 == "+74951234567"


def test_lead_form_reads_a_kyiv_number_for_a_ukrainian_lead(client, uk_rep):
    client.force_login(uk_rep)
    response = client.post(reverse("sales:lead_create"), {
        "first_name": "Олена", "last_name": "Коваленко", "company": "ТОВ «Світанок»", "country": "Україна",
        "phone": "0 44 123 4567", "owner": uk_rep.pk})
    assert response.status_code == 302, response.context["form"].errors
    assert Lead.objects.get().phone_e164 == "+380441234567"


def test_api_reads_numbers_in_the_user_s_country(client, ru_rep):
    client.force_login(ru_rep)
    response = client.post("/api/contacts/", {"first_name": "Анна", "last_name": "Смирнова",
                                              "phones": ["8 (912) 345-67-89"]}, content_type="application/json")
    assert response.status_code == 201, response.json()
    assert response.json()["phones"] == ["+79123456789"]
    response = client.post("/api/accounts/", {"name": "ООО «Вектор»", "phone": "8 (495) 123-45-67"},
                           content_type="application/json")
    assert response.status_code == 201, response.json()
    assert response.json()["phone_e164"] == "+74951234567"


# --- Finding a number --------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["+7 916 638-38-11", "8 (916) 638-38-11", "89166383811", "8-916-638-38-11",
                                   "+79166383811", "9166383811"])
def test_global_search_finds_a_russian_number_in_every_form(ru_rep, typed):
    contact = ContactFactory(owner=ru_rep, first_name="Алексей", last_name="Волков", phones=["+79166383811"])
    assert search.search(ru_rep, typed).records("contacts") == [contact]


@pytest.mark.parametrize("typed", ["8 (916) 638-38-11", "89166383811"])
def test_a_uk_user_finds_a_russian_number_typed_with_its_trunk_8(uk_rep, typed):
    contact = ContactFactory(owner=uk_rep, last_name="Volkov", phones=["+79166383811"])
    account = AccountFactory(owner=uk_rep, name="Vector", phone="+7 916 638-38-11")
    found = search.search(uk_rep, typed)
    assert found.records("contacts") == [contact] and found.records("accounts") == [account]


def test_uk_numbers_keep_working_for_a_russian_user(ru_rep):
    contact = ContactFactory(owner=ru_rep, last_name="Hopper", phones=["+442079460000"])
    assert search.search(ru_rep, "020 7946 0000").records("contacts") == [contact]


def test_list_filters_read_the_number_like_search(client, ru_rep):
    contact = ContactFactory(owner=ru_rep, last_name="Волков", phones=["+79166383811"])
    AccountFactory(owner=ru_rep, name="Вектор", phone="+7 916 638-38-11")
    client.force_login(ru_rep)
    assert contact.last_name in client.get(reverse("contacts:list"), {"q": "8 (916) 638-38-11"}).content.decode()
    assert "Вектор" in client.get(reverse("accounts:list"), {"q": "89166383811"}).content.decode()


def test_caller_lookup_understands_the_trunk_prefix(client, ru_rep, uk_rep):
    ru_contact = ContactFactory(owner=ru_rep, first_name="Алексей", last_name="Волков", phones=["+79166383811"])
    uk_contact = ContactFactory(owner=uk_rep, first_name="Grace", last_name="Hopper", phones=["+442079460000"])
    client.force_login(ru_rep)
    answer = client.get(reverse("lookup_phone"), {"phone": "8 (916) 638-38-11"}).json()
    assert answer["phone"] == "+79166383811" and [row["contact"] for row in answer["results"]] == [ru_contact.pk]
    client.force_login(uk_rep)
    answer = client.get(reverse("lookup_phone"), {"phone": "020 7946 0000"}).json()
    assert answer["phone"] == "+442079460000" and [row["contact"] for row in answer["results"]] == [uk_contact.pk]
    # A UK agent takes a call from a Russian number typed the Russian way: not found as a UK number,
    # found as the Russian one -- but only among the records the agent may see.
    answer = client.get(reverse("lookup_phone"), {"phone": "89166383811"}).json()
    assert answer["results"] == []
    ContactFactory(owner=uk_rep, last_name="Volkova", phones=["+79166383811"])
    answer = client.get(reverse("lookup_phone"), {"phone": "89166383811"}).json()
    assert answer["phone"] == "+79166383811" and [row["contact_text"] for row in answer["results"]] == [
        "Volkova" if not Contact.objects.get(last_name="Volkova").first_name
        else str(Contact.objects.get(last_name="Volkova"))]


def test_caller_lookup_public_functions_take_one_number_or_several(ru_rep):
    contact = ContactFactory(owner=ru_rep, last_name="Волков", phones=["+79166383811"])
    assert [hit.links["contact"][0] for hit in search.caller_lookup(ru_rep, "+79166383811")] == [contact.pk]
    assert [hit.links["contact"][0] for hit in search.caller_lookup(ru_rep, ["+442079460000", "+79166383811"])] == [
        contact.pk]


# --- Part of a number ----------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["638-38-11", "6383811", "66383811", "38 38 11"])
def test_the_last_6_to_8_digits_find_the_number(ru_rep, typed):
    contact = ContactFactory(owner=ru_rep, last_name="Волков", phones=["+442079460000", "+79166383811"])
    account = AccountFactory(owner=ru_rep, name="Вектор", phone="+7 916 638-38-11")
    lead = Lead.objects.create(owner=ru_rep, team=ru_rep.team, last_name="Лебедев", phone="+7 916 638-38-11")
    ContactFactory(owner=ru_rep, last_name="Другой", phones=["+79166383812"])
    found = search.search(ru_rep, typed)
    assert found.records("contacts") == [contact]
    assert found.records("accounts") == [account] and found.records("leads") == [lead]


def test_a_tail_matches_only_the_end_of_a_number(ru_rep):
    ContactFactory(owner=ru_rep, last_name="Волков", phones=["+79166383811"])
    assert search.search(ru_rep, "916638").records("contacts") == []  # the middle of the number
    assert search.search(ru_rep, "38-11").records("contacts") == []  # 4 digits: too few to search by


def test_part_of_a_number_stays_within_the_visibility_rules(ru_rep, uk_rep):
    ContactFactory(owner=uk_rep, last_name="Hidden", phones=["+79166383811"])
    assert search.search(ru_rep, "638-38-11").records("contacts") == []


def test_part_of_a_number_is_one_indexed_query_per_provider(ru_rep):
    ContactFactory(owner=ru_rep, last_name="Волков", phones=["+79166383811"])
    search.search(ru_rep, "638-38-11")  # the user's country, once
    with CaptureQueriesContext(connection) as queries:
        search.search(ru_rep, "638-38-11")
    assert len(queries) == 4  # accounts, contacts, leads, products
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = Contact.objects.with_phone([], tail="6383811").order_by().explain()
        assert "contact_phone_tails_trgm" in plan

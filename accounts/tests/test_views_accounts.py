import pytest
from django.urls import reverse

from accounts.models import Account
from accounts.tests.factories import AccountFactory


def form_data(**overrides):
    data = {"name": "Globex Corporation", "type": "customer", "industry": "Energy", "country": "USA"}
    data.update(overrides)
    return data


def test_rep_creates_an_account_they_own(client, owner):
    client.force_login(owner)
    response = client.post(reverse("accounts:create"), form_data())
    account = Account.objects.get(name="Globex Corporation")
    assert response.status_code == 302 and response["Location"] == account.get_absolute_url()
    assert account.owner == owner and account.team == owner.team


def test_invalid_input_changes_nothing_and_says_why(client, owner):
    client.force_login(owner)
    response = client.post(reverse("accounts:create"), form_data(name="", email="not-an-email"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "This field is required" in body and "valid email" in body
    assert not Account.objects.exists()


def test_forged_parent_id_is_rejected(client, owner, outsider):
    hidden = AccountFactory(owner=outsider)
    client.force_login(owner)
    response = client.post(reverse("accounts:create"), form_data(parent=hidden.pk))
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not Account.objects.filter(name="Globex Corporation").exists()


def test_rep_cannot_hand_a_record_to_someone_else(client, owner, outsider):
    client.force_login(owner)
    client.post(reverse("accounts:create"), form_data(owner=outsider.pk))
    assert not Account.objects.filter(owner=outsider).exists()


def test_manager_reassigns_within_the_team(client, manager, owner, teammate):
    account = AccountFactory(owner=owner)
    client.force_login(manager)
    client.post(reverse("accounts:edit", args=[account.pk]), form_data(name=account.name, owner=teammate.pk))
    account.refresh_from_db()
    assert account.owner == teammate


def test_script_in_a_description_is_shown_as_text(client, owner):
    account = AccountFactory(owner=owner, description="<script>alert('x')</script>")
    client.force_login(owner)
    body = client.get(account.get_absolute_url()).content.decode()
    assert "<script>alert" not in body
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in body


def test_history_shows_who_changed_what(client, owner):
    client.force_login(owner)
    client.post(reverse("accounts:create"), form_data())
    account = Account.objects.get()
    client.post(reverse("accounts:edit", args=[account.pk]), form_data(industry="Utilities"))
    body = client.get(account.get_absolute_url()).content.decode()
    assert "Utilities" in body and "Energy" in body
    assert body.count(str(owner)) >= 2  # owner line + history entries name the user


def test_delete_is_soft_and_recorded(client, owner):
    account = AccountFactory(owner=owner)
    client.force_login(owner)
    client.post(reverse("accounts:delete", args=[account.pk]))
    account.refresh_from_db()
    assert account.deleted_at is not None
    assert account.get_absolute_url() not in client.get(reverse("accounts:list")).content.decode()


def test_list_filters_and_sorts(client, owner):
    AccountFactory(owner=owner, name="Zeta", type="prospect")
    AccountFactory(owner=owner, name="Alpha", type="customer")
    client.force_login(owner)
    body = client.get(reverse("accounts:list"), {"sort": "-name"}).content.decode()
    assert body.index("Zeta") < body.index("Alpha")
    body = client.get(reverse("accounts:list"), {"type": "prospect"}).content.decode()
    assert "Zeta" in body and "Alpha" not in body


def test_empty_list_explains_and_offers_the_action(client, owner):
    client.force_login(owner)
    body = client.get(reverse("accounts:list")).content.decode()
    assert "Accounts are the companies you sell to" in body
    assert reverse("accounts:create") in body


def test_bad_page_number_falls_back(client, owner):
    AccountFactory(owner=owner)
    client.force_login(owner)
    assert client.get(reverse("accounts:list"), {"page": "abc"}).status_code == 200
    assert client.get(reverse("accounts:list"), {"page": "999999"}).status_code == 200


@pytest.mark.parametrize("rows", [1, 50, 500])
def test_list_query_count_is_constant(client, owner, django_assert_max_num_queries, rows):
    AccountFactory.create_batch(rows, owner=owner, team=owner.team)
    client.force_login(owner)
    client.get(reverse("accounts:list"))  # warm the session
    with django_assert_max_num_queries(15):
        assert client.get(reverse("accounts:list")).status_code == 200


@pytest.mark.parametrize("changes", [1, 40])
def test_detail_query_count_is_constant(client, owner, django_assert_max_num_queries, changes):
    client.force_login(owner)
    client.post(reverse("accounts:create"), form_data())
    account = Account.objects.get()
    for index in range(changes):
        client.post(reverse("accounts:edit", args=[account.pk]), form_data(industry=f"Industry {index}"))
    # 15, plus one query for each later module's panels: tickets (with their figure), contracts and field work.
    with django_assert_max_num_queries(15):
        assert client.get(account.get_absolute_url()).status_code == 200


def _tile(body: str) -> str:
    start = body.index('id="figure-last-contact"')
    tile = body[body.rindex("<", 0, start):]  # from the tile's opening tag, with its link
    return tile[:tile.index("</span>\n</")]


def test_account_page_shows_the_last_contact_within_its_query_budget(client, owner, django_assert_max_num_queries):
    """The latest call, meeting or e-mail with anyone at the account, brought along by the timeline's
    query: right when it is on the timeline's first page, when it is older than that page (25 later
    notes), and when the timeline is filtered; later notes, tasks and a meeting ahead do not count."""
    from datetime import timedelta

    from django.utils import timezone

    from activities.models import Activity

    account = AccountFactory(owner=owner, team=owner.team, name="ООО «Вектор»")
    now = timezone.now()

    def log(kind, hours, subject):
        return Activity.objects.create(kind=kind, subject=subject, owner=owner, team=owner.team, account=account,
                                       occurred_at=now + timedelta(hours=hours))

    client.force_login(owner)
    body = client.get(account.get_absolute_url()).content.decode()
    assert "No call, meeting or e-mail yet" in _tile(body)

    call = log("call", -24 * 40, "Звонок Ивану Петровичу")
    for index in range(30):  # pushes the call off the timeline's first page
        log("note", -24 * 10 + index, f"Заметка {index}")
    log("task", -1, "A task")
    log("meeting", 48, "Next week's meeting")
    client.get(account.get_absolute_url())
    with django_assert_max_num_queries(15):
        body = client.get(account.get_absolute_url()).content.decode()
    tile = _tile(body)
    assert call.get_absolute_url() in tile and "Call" in tile and str(owner) in tile
    assert call.occurred_at.isoformat() in tile and "Next week" not in tile

    email = log("email", -2, "Коммерческое предложение")
    with django_assert_max_num_queries(15):
        body = client.get(account.get_absolute_url()).content.decode()
    tile = _tile(body)
    assert email.get_absolute_url() in tile and "E-mail" in tile and "2\xa0hours ago" in tile

    body = client.get(account.get_absolute_url(), {"kind": "note"}).content.decode()  # a filtered timeline
    assert email.get_absolute_url() in _tile(body)
    body = client.get(account.get_absolute_url(), {"kind": "change"}).content.decode()
    assert email.get_absolute_url() in _tile(body)
